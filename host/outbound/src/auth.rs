//! Credential injection: auth schemes and `{{secret.NAME}}` placeholders,
//! applied by the host after the allowlist check.

use base64::Engine as _;

use patchbay_secrets::{Credentials, TemplateError};

/// How the host authenticates a request; the plugin names credential
/// fields and never sees their values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthScheme {
    /// HTTP Basic from two fields.
    Basic {
        /// Field holding the user name.
        user_field: String,
        /// Field holding the password.
        password_field: String,
    },
    /// `Authorization: Bearer <field>`.
    Bearer {
        /// Field holding the token.
        field: String,
    },
    /// A header carrying a field, with an optional prefix.
    Header {
        /// Header name.
        name: String,
        /// Field holding the value.
        field: String,
        /// Text before the value.
        prefix: Option<String>,
    },
    /// A query parameter carrying a field.
    Query {
        /// Parameter name.
        param: String,
        /// Field holding the value.
        field: String,
    },
    /// The connection's OAuth2 access token.
    OAuth2,
    /// AWS Signature Version 4.
    AwsSigV4 {
        /// Service name, e.g. `s3`.
        service: String,
        /// Region.
        region: String,
        /// Field holding the access key id.
        key_id_field: String,
        /// Field holding the secret access key.
        secret_field: String,
        /// Field holding a session token, if any.
        session_token_field: Option<String>,
    },
}

/// The field name that, in a `Header` scheme, means the connection's OAuth2
/// access token rather than a credential: for providers that want the token
/// in a header of their own (Shopify's `X-Shopify-Access-Token`) instead of
/// `Authorization: Bearer`.
pub const OAUTH_ACCESS_TOKEN: &str = "oauth.access_token";

impl AuthScheme {
    /// Where the connection's OAuth2 access token goes, when the scheme
    /// carries one: the header and the text before the token.
    pub fn oauth_header(&self) -> Option<(String, String)> {
        match self {
            Self::OAuth2 => Some(("authorization".into(), "Bearer ".into())),
            Self::Header { name, field, prefix } if field == OAUTH_ACCESS_TOKEN => {
                Some((name.to_ascii_lowercase(), prefix.clone().unwrap_or_default()))
            }
            _ => None,
        }
    }
}

/// Why credentials could not be applied; the request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A `{{secret.NAME}}` placeholder could not be filled.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The request names a credential field the connection does not have.
    #[error("the request names the credential field {0:?}, which this connection does not have")]
    MissingField(String),
    /// The scheme cannot be used by this host or connection.
    #[error("{0}")]
    Unavailable(String),
}

fn field<'a>(credentials: &'a Credentials, name: &str) -> Result<&'a str, AuthError> {
    credentials
        .get(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AuthError::MissingField(name.to_string()))
}

/// Headers and query parameters an auth scheme adds.
#[derive(Debug, Default)]
pub struct AppliedAuth {
    /// Headers to set (replacing any of the same name).
    pub headers: Vec<(String, String)>,
    /// Query parameters to append.
    pub query: Vec<(String, String)>,
}

/// Computes what an auth scheme adds to a request. OAuth2 and SigV4 are
/// resolved by the pipeline, which owns tokens and the final request.
pub fn apply(scheme: &AuthScheme, credentials: &Credentials) -> Result<AppliedAuth, AuthError> {
    let mut applied = AppliedAuth::default();
    match scheme {
        AuthScheme::Basic {
            user_field,
            password_field,
        } => {
            let user = field(credentials, user_field)?;
            // An empty password is legitimate for Basic (PrestaShop keys).
            let password = credentials
                .get(password_field)
                .ok_or_else(|| AuthError::MissingField(password_field.clone()))?;
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            applied.headers.push(("authorization".into(), format!("Basic {token}")));
        }
        AuthScheme::Bearer { field: name } => {
            applied
                .headers
                .push(("authorization".into(), format!("Bearer {}", field(credentials, name)?)));
        }
        AuthScheme::Header {
            name,
            field: value_field,
            prefix,
        } => {
            let value = field(credentials, value_field)?;
            applied.headers.push((
                name.to_ascii_lowercase(),
                format!("{}{value}", prefix.as_deref().unwrap_or("")),
            ));
        }
        AuthScheme::Query {
            param,
            field: value_field,
        } => {
            applied
                .query
                .push((param.clone(), field(credentials, value_field)?.to_string()));
        }
        AuthScheme::OAuth2 => {
            return Err(AuthError::Unavailable(
                "OAuth2 tokens are applied by the pipeline".into(),
            ));
        }
        AuthScheme::AwsSigV4 { .. } => {
            return Err(AuthError::Unavailable(
                "AWS SigV4 signing is applied by the pipeline".into(),
            ));
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials::from([("key", "ck_1"), ("secret", "cs_2"), ("token", "123:ABC")])
    }

    #[test]
    fn basic_auth_is_base64_of_both_fields() {
        let applied = apply(
            &AuthScheme::Basic {
                user_field: "key".into(),
                password_field: "secret".into(),
            },
            &creds(),
        )
        .unwrap();
        assert_eq!(
            applied.headers,
            vec![("authorization".to_string(), "Basic Y2tfMTpjc18y".to_string())]
        );
    }

    #[test]
    fn header_and_query_schemes() {
        let header = AuthScheme::Header {
            name: "Authorization".into(),
            field: "token".into(),
            prefix: Some("Bot ".into()),
        };
        assert_eq!(apply(&header, &creds()).unwrap().headers[0].1, "Bot 123:ABC");
        let query = AuthScheme::Query {
            param: "key".into(),
            field: "key".into(),
        };
        assert_eq!(
            apply(&query, &creds()).unwrap().query,
            vec![("key".to_string(), "ck_1".to_string())]
        );
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let err = apply(&AuthScheme::Bearer { field: "nope".into() }, &creds()).unwrap_err();
        assert_eq!(err, AuthError::MissingField("nope".into()));
    }
}

/// Where a SigV4 signature's inputs come from.
#[derive(Debug, Clone, Copy)]
pub struct SigV4Request<'a> {
    /// The method.
    pub method: &'a str,
    /// The final URL.
    pub url: &'a str,
    /// Headers that will be sent (all are signed).
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: SigV4Payload<'a>,
}

/// The payload a SigV4 signature covers.
#[derive(Debug, Clone, Copy)]
pub enum SigV4Payload<'a> {
    /// The body's bytes.
    Bytes(&'a [u8]),
    /// The hex SHA-256 of a body streamed from a blob (hashed beforehand
    /// from its file).
    Sha256(&'a str),
}

/// Signs a request with AWS Signature Version 4; returns the headers to add
/// (`authorization`, `x-amz-date`, and for S3 `x-amz-content-sha256`, plus
/// `x-amz-security-token` with a session token).
pub fn sigv4_headers(
    request: SigV4Request<'_>,
    scheme: &AuthScheme,
    credentials: &Credentials,
    time: std::time::SystemTime,
) -> Result<Vec<(String, String)>, AuthError> {
    use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign};
    let AuthScheme::AwsSigV4 {
        service,
        region,
        key_id_field,
        secret_field,
        session_token_field,
    } = scheme
    else {
        return Err(AuthError::Unavailable("not a SigV4 scheme".into()));
    };
    let token = match session_token_field {
        Some(name) => Some(field(credentials, name)?.to_string()),
        None => None,
    };
    let identity = aws_credential_types::Credentials::new(
        field(credentials, key_id_field)?,
        field(credentials, secret_field)?,
        token,
        None,
        "patchbay",
    )
    .into();
    let mut settings = SigningSettings::default();
    if service == "s3" {
        // S3 signs the SHA-256 of the payload in a header, and its canonical
        // URI is the path as sent: encoded once (the plugin's encoding of
        // the object key), never normalized (`a//b` and `a/../b` are keys).
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
    }
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| AuthError::Unavailable(format!("cannot sign with SigV4: {e}")))?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        match request.body {
            SigV4Payload::Bytes(bytes) => SignableBody::Bytes(bytes),
            SigV4Payload::Sha256(hash) => SignableBody::Precomputed(hash.to_string()),
        },
    )
    .map_err(|e| AuthError::Unavailable(format!("cannot sign this request with SigV4: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| AuthError::Unavailable(format!("SigV4 signing failed: {e}")))?
        .into_parts();
    let (headers, _query) = instructions.into_parts();
    Ok(headers
        .into_iter()
        .map(|h| (h.name().to_string(), h.value().to_string()))
        .collect())
}

#[cfg(test)]
mod sigv4_tests {
    use super::*;

    /// The signing example of AWS's Signature Version 4 documentation
    /// (IAM ListUsers, 2015-08-30T12:36:00Z).
    #[test]
    fn matches_the_documented_example() {
        let credentials = Credentials::from([
            ("key", "AKIDEXAMPLE"),
            ("secret", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        ]);
        let scheme = AuthScheme::AwsSigV4 {
            service: "iam".into(),
            region: "us-east-1".into(),
            key_id_field: "key".into(),
            secret_field: "secret".into(),
            session_token_field: None,
        };
        let headers = vec![(
            "content-type".to_string(),
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        )];
        let time = httpdate::parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT").unwrap();
        let request = SigV4Request {
            method: "GET",
            url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
            headers: &headers,
            body: SigV4Payload::Bytes(b""),
        };
        let signed = sigv4_headers(request, &scheme, &credentials, time).unwrap();
        let get = |name: &str| signed.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(get("x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(
            get("authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date, \
                 Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
            )
        );
    }

    /// The GET Object example of AWS's S3 Signature Version 4 documentation
    /// (examplebucket, `Range: bytes=0-9`, 2013-05-24).
    #[test]
    fn matches_the_documented_s3_example() {
        let credentials = Credentials::from([
            ("key", "AKIAIOSFODNN7EXAMPLE"),
            ("secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ]);
        let scheme = AuthScheme::AwsSigV4 {
            service: "s3".into(),
            region: "us-east-1".into(),
            key_id_field: "key".into(),
            secret_field: "secret".into(),
            session_token_field: None,
        };
        let headers = vec![("range".to_string(), "bytes=0-9".to_string())];
        let time = httpdate::parse_http_date("Fri, 24 May 2013 00:00:00 GMT").unwrap();
        let request = SigV4Request {
            method: "GET",
            url: "https://examplebucket.s3.amazonaws.com/test.txt",
            headers: &headers,
            body: SigV4Payload::Bytes(b""),
        };
        let signed = sigv4_headers(request, &scheme, &credentials, time).unwrap();
        let get = |name: &str| signed.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(
            get("x-amz-content-sha256"),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(
            get("authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
                 SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
                 Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            )
        );
    }

    /// An S3 key's path is signed as sent: `a//b` is a key of its own, not
    /// `a/b`, so the signature must not normalize it away.
    #[test]
    fn an_s3_path_is_signed_as_sent() {
        let credentials = Credentials::from([("key", "AKIDEXAMPLE"), ("secret", "secret")]);
        let scheme = |service: &str| AuthScheme::AwsSigV4 {
            service: service.into(),
            region: "us-east-1".into(),
            key_id_field: "key".into(),
            secret_field: "secret".into(),
            session_token_field: None,
        };
        let time = httpdate::parse_http_date("Fri, 24 May 2013 00:00:00 GMT").unwrap();
        let sign = |service: &str, path: &str| {
            let url = format!("https://examplebucket.s3.amazonaws.com{path}");
            let request = SigV4Request {
                method: "GET",
                url: &url,
                headers: &[],
                body: SigV4Payload::Bytes(b""),
            };
            let signed = sigv4_headers(request, &scheme(service), &credentials, time).unwrap();
            signed.into_iter().find(|(n, _)| n == "authorization").unwrap().1
        };
        assert_ne!(sign("s3", "/a//b"), sign("s3", "/a/b"));
        // Other services normalize the path: `a//b` signs as `a/b`.
        assert_eq!(sign("iam", "/a//b"), sign("iam", "/a/b"));
    }
}
