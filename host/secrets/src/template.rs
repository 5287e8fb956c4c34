//! The one parser for `{{KIND.NAME}}` templates: `{{secret.NAME}}` in a
//! request's URL or header values (filled with a credential by the host,
//! after the allowlist check) and `{{setting.NAME}}` in allowed-host
//! patterns and OAuth2 endpoint URLs (filled with a connection setting).
//!
//! | form                     | where                          | filled with              |
//! |--------------------------|--------------------------------|--------------------------|
//! | `{{secret.NAME}}`        | request URL, header values     | the credential `NAME`    |
//! | `{{secret.NAME}}`        | a request body, for the fields its `patchbay-body-secrets` header names | the credential, encoded as the body's type wants |
//! | `{{secret.oauth.code}}`… | plugin-described token requests| what the host learned    |
//! | `{{setting.NAME}}`       | allowed hosts, OAuth2 endpoints| the setting `NAME`       |
//!
//! Spaces around `NAME` are ignored (`{{secret. key }}`).

use url::Url;

use crate::credentials::Credentials;

/// Why a template could not be filled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{{KIND.` without its closing `}}`.
    #[error("unterminated {{{{{kind}.NAME}}}} placeholder")]
    Unterminated {
        /// `secret` or `setting`.
        kind: String,
    },
    /// A `{{secret.NAME}}` names a credential the connection does not have.
    #[error("the request names the credential field {0:?}, which this connection does not have")]
    MissingCredential(String),
    /// A URL is no longer a URL once its placeholders are filled.
    #[error("the URL is invalid once credentials are filled in")]
    InvalidUrl,
    /// A placeholder changed a URL's origin (scheme, host or port).
    #[error("a {{{{secret.NAME}}}} placeholder may not change the URL's origin")]
    OriginChanged,
}

fn opening(kind: &str) -> String {
    format!("{{{{{kind}.")
}

/// Replaces every `{{KIND.NAME}}` in `text` with `value(NAME)`;
/// `unterminated` is the error for a `{{KIND.` without `}}`.
pub fn fill<E>(
    text: &str,
    kind: &str,
    unterminated: impl FnOnce() -> E,
    mut value: impl FnMut(&str) -> Result<String, E>,
) -> Result<String, E> {
    fill_with(text, kind, unterminated, |name, _| value(name))
}

/// [`fill`], the replacement seeing the placeholder as written too (to
/// leave it as it was).
fn fill_with<E>(
    text: &str,
    kind: &str,
    unterminated: impl FnOnce() -> E,
    mut value: impl FnMut(&str, &str) -> Result<String, E>,
) -> Result<String, E> {
    let opening = opening(kind);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(&opening) {
        out.push_str(&rest[..start]);
        let after = &rest[start + opening.len()..];
        let Some(end) = after.find("}}") else {
            return Err(unterminated());
        };
        let written = &rest[start..start + opening.len() + end + 2];
        out.push_str(&value(after[..end].trim(), written)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The names of every `{{KIND.NAME}}` in `text`, in order.
pub fn names<'a>(text: &'a str, kind: &str) -> Result<Vec<&'a str>, TemplateError> {
    let opening = opening(kind);
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&opening) {
        let after = &rest[start + opening.len()..];
        let end = after
            .find("}}")
            .ok_or_else(|| TemplateError::Unterminated { kind: kind.into() })?;
        names.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    Ok(names)
}

/// The `NAME` of a text that is exactly one `{{KIND.NAME}}` (surrounding
/// spaces allowed), e.g. an allowed host taken whole from a setting.
pub fn whole<'a>(text: &'a str, kind: &str) -> Option<&'a str> {
    let inner = text.trim().strip_prefix(&opening(kind))?.strip_suffix("}}")?;
    (!inner.contains("}}")).then(|| inner.trim())
}

/// Whether `text` holds a `{{secret.NAME}}` placeholder.
pub fn has_secret(text: &str) -> bool {
    text.contains("{{secret.")
}

/// Replaces every `{{secret.NAME}}` in `text` with the credential `NAME`.
pub fn fill_secrets(text: &str, credentials: &Credentials) -> Result<String, TemplateError> {
    fill(
        text,
        "secret",
        || TemplateError::Unterminated { kind: "secret".into() },
        |name| {
            credentials
                .get(name)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| TemplateError::MissingCredential(name.to_string()))
        },
    )
}

/// How a value is written into a body: as the body's content type holds
/// text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// Inside a JSON string: escaped as JSON escapes it.
    Json,
    /// A form value (`application/x-www-form-urlencoded`): percent-encoded.
    Form,
    /// Any other text: as it is.
    Raw,
}

impl BodyEncoding {
    /// The encoding a `Content-Type` calls for.
    pub fn for_content_type(content_type: Option<&str>) -> Self {
        let content_type = content_type.unwrap_or_default().to_ascii_lowercase();
        if content_type.contains("json") {
            Self::Json
        } else if content_type.contains("x-www-form-urlencoded") {
            Self::Form
        } else {
            Self::Raw
        }
    }

    fn encode(self, value: &str) -> String {
        match self {
            Self::Json => {
                let quoted = serde_json::to_string(value).unwrap_or_default();
                quoted[1..quoted.len().saturating_sub(1)].to_string()
            }
            Self::Form => url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
            Self::Raw => value.to_string(),
        }
    }
}

/// A body with its secrets filled in, and the values that went in.
pub type FilledBody = (Vec<u8>, Vec<String>);

/// Fills the `{{secret.NAME}}` placeholders of a body whose `NAME` is one
/// of `allowed` (the fields the request named); other placeholders stay as
/// they are: a body may carry text the plugin did not write (a message), and
/// only what the plugin named is filled. `None` when the body is not UTF-8.
pub fn fill_body_secrets(
    body: &[u8],
    allowed: &[&str],
    encoding: BodyEncoding,
    credentials: &Credentials,
) -> Result<Option<FilledBody>, TemplateError> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Ok(None);
    };
    let mut filled = Vec::new();
    let out = fill_with(
        text,
        "secret",
        || TemplateError::Unterminated { kind: "secret".into() },
        |name, written| {
            if !allowed.contains(&name) {
                // Not named: left exactly as it was.
                return Ok(written.to_string());
            }
            let value = credentials
                .get(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| TemplateError::MissingCredential(name.to_string()))?;
            filled.push(value.to_string());
            Ok(encoding.encode(value))
        },
    )?;
    Ok(Some((out.into_bytes(), filled)))
}

/// Fills `{{secret.NAME}}` placeholders in a URL. Placeholders may sit in
/// the path or the query (Telegram puts its token in the path); the origin
/// was checked against the allowlist with placeholders intact, and may not
/// change.
pub fn fill_url_secrets(url: &Url, credentials: &Credentials) -> Result<Url, TemplateError> {
    let raw = url.as_str();
    // The URL parser percent-encodes braces in paths and queries.
    let decoded = raw.replace("%7B%7Bsecret.", "{{secret.").replace("%7D%7D", "}}");
    if !has_secret(&decoded) {
        return Ok(url.clone());
    }
    let substituted = fill_secrets(&decoded, credentials)?;
    let result = Url::parse(&substituted).map_err(|_| TemplateError::InvalidUrl)?;
    if result.origin() != url.origin() {
        return Err(TemplateError::OriginChanged);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    #[test]
    fn body_secrets_are_filled_only_for_the_named_fields_and_encoded_for_the_body() {
        use super::*;
        let credentials = Credentials::from([("password", "p\"ss wörd&"), ("other", "o-secret")]);
        let body = br#"{"password":"{{secret.password}}","note":"{{secret.other}}"}"#;
        let (json, filled) = fill_body_secrets(body, &["password"], BodyEncoding::Json, &credentials)
            .unwrap()
            .unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"password":"p\"ss wörd&","note":"{{secret.other}}"}"#
        );
        assert_eq!(filled, ["p\"ss wörd&"]);
        let (form, _) = fill_body_secrets(
            b"user=a&pass={{secret.password}}",
            &["password"],
            BodyEncoding::Form,
            &credentials,
        )
        .unwrap()
        .unwrap();
        assert_eq!(form, b"user=a&pass=p%22ss+w%C3%B6rd%26");
        assert_eq!(
            fill_body_secrets(b"{{secret.missing}}", &["missing"], BodyEncoding::Raw, &credentials).unwrap_err(),
            TemplateError::MissingCredential("missing".into())
        );
        assert!(
            fill_body_secrets(&[0xff, 0xfe], &["password"], BodyEncoding::Raw, &credentials)
                .unwrap()
                .is_none()
        );
    }

    use super::*;

    #[test]
    fn fills_every_placeholder_of_its_kind() {
        let creds = Credentials::from([("token", "t0k"), ("key", "k")]);
        assert_eq!(
            fill_secrets("a {{secret.token}} b {{secret. key }}", &creds).unwrap(),
            "a t0k b k"
        );
        assert_eq!(fill_secrets("{{setting.x}}", &creds).unwrap(), "{{setting.x}}");
        assert_eq!(
            fill_secrets("{{secret.nope}}", &creds).unwrap_err(),
            TemplateError::MissingCredential("nope".into())
        );
        let unterminated = fill_secrets("{{secret.token", &creds).unwrap_err();
        assert_eq!(unterminated.to_string(), "unterminated {{secret.NAME}} placeholder");
    }

    #[test]
    fn names_and_whole_templates() {
        assert_eq!(names("{{setting.a}}/x/{{setting.b}}", "setting").unwrap(), ["a", "b"]);
        assert!(names("{{setting.a", "setting").is_err());
        assert_eq!(whole(" {{setting.domain}} ", "setting"), Some("domain"));
        assert_eq!(whole("https://{{setting.domain}}", "setting"), None);
        assert_eq!(whole("{{setting.a}}{{setting.b}}", "setting"), None);
    }

    #[test]
    fn url_placeholders_cannot_move_the_origin() {
        let creds = Credentials::from([("token", "123:abc")]);
        let url = Url::parse("https://api.telegram.org/bot{{secret.token}}/getMe").unwrap();
        assert_eq!(
            fill_url_secrets(&url, &creds).unwrap().as_str(),
            "https://api.telegram.org/bot123:abc/getMe"
        );
        let moved = Credentials::from([("user", "evil.example/")]);
        let url = Url::parse("https://{{secret.user}}@a.example/x").unwrap();
        assert_eq!(
            fill_url_secrets(&url, &moved).unwrap_err(),
            TemplateError::OriginChanged
        );
    }
}
