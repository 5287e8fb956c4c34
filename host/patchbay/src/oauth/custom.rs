//! Non-standard OAuth flows through the plugin's `oauth` capability: the
//! plugin builds the authorization URL and describes each token request;
//! the host fills in the secrets, sends the request, pulls the tokens out of
//! the answer with the plugin's JSON pointers, and stores them like the
//! standard flow does. The plugin never sees a code verifier, a refresh
//! token or an access token.

use serde_json::Value;

use async_trait::async_trait;
use patchbay_contract::types::{AuthorizeParams, TokenGrant, TokenRequestSpec};
use patchbay_outbound::HostGrant;
use patchbay_sandbox::CallError;
use patchbay_secrets::{Credentials, Redactor, template};

use super::http::TokenHttp;
use super::tokens::{OAuthError, TokenSet, unix_now};

/// What a plugin-described flow needs of its connection: the plugin's
/// `oauth` capability, and the connection's hosts, credentials and redactor.
#[async_trait]
pub(crate) trait OAuthPlugin: Send + Sync {
    /// The plugin's authorization URL.
    async fn authorize_url(&self, params: &AuthorizeParams) -> Result<String, CallError>;
    /// The plugin's description of a token request.
    async fn token_request(&self, grant: &TokenGrant, redirect_uri: &str) -> Result<TokenRequestSpec, CallError>;
    /// The hosts the connection may reach.
    fn hosts(&self) -> &HostGrant;
    /// The connection's credentials.
    fn credentials(&self) -> &Credentials;
}

/// The secrets a token request may name, besides the connection's own.
#[derive(Default)]
pub(crate) struct GrantSecrets {
    pub code: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
}

/// The plugin's authorization URL.
pub(crate) async fn authorize_url(
    plugin: &dyn OAuthPlugin,
    redirect_uri: &str,
    state: &str,
    code_challenge: &str,
) -> Result<String, OAuthError> {
    let params = AuthorizeParams {
        redirect_uri: redirect_uri.to_string(),
        state: state.to_string(),
        scopes: Vec::new(),
        code_challenge: Some(code_challenge.to_string()),
    };
    plugin
        .authorize_url(&params)
        .await
        .map_err(|e| OAuthError::Config(format!("the plugin cannot build the authorization URL: {e}")))
}

/// Fills placeholders, escaping values for the body's media type so a
/// secret cannot break out of its field.
fn fill(text: &str, secrets: &Credentials, content_type: &str) -> Result<String, OAuthError> {
    let escaped: Credentials = secrets
        .names()
        .map(|name| {
            let value = secrets.get(name).unwrap_or_default();
            let value = if content_type.contains("json") {
                let quoted = serde_json::to_string(value).expect("strings serialize");
                quoted[1..quoted.len() - 1].to_string()
            } else if content_type.contains("x-www-form-urlencoded") {
                url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
            } else {
                value.to_string()
            };
            (name.to_string(), value)
        })
        .collect();
    template::fill_secrets(text, &escaped).map_err(|e| OAuthError::Config(e.to_string()))
}

fn pointer<'a>(answer: &'a Value, pointer: &str) -> Option<&'a Value> {
    answer.pointer(pointer).filter(|v| !v.is_null())
}

/// Asks the plugin for the token request of `grant`, sends it, and reads
/// the tokens out of the answer.
pub(crate) async fn exchange(
    plugin: &dyn OAuthPlugin,
    http: &TokenHttp,
    grant: TokenGrant,
    redirect_uri: &str,
    secrets: GrantSecrets,
) -> Result<TokenSet, OAuthError> {
    let previous_refresh = secrets.refresh_token.clone();
    let spec = plugin
        .token_request(&grant, redirect_uri)
        .await
        .map_err(|e| OAuthError::Config(format!("the plugin cannot describe the token request: {e}")))?;
    let url = url::Url::parse(&spec.url)
        .map_err(|e| OAuthError::Config(format!("the plugin's token URL {:?} is not a URL: {e}", spec.url)))?;
    // The URL comes from the plugin: it must be one the connection may reach.
    plugin
        .hosts()
        .check(&url)
        .map_err(|why| OAuthError::Config(format!("the token URL is not allowed: {why}")))?;
    let mut all = plugin.credentials().clone();
    for (name, value) in [
        ("oauth.code", secrets.code),
        ("oauth.code_verifier", secrets.code_verifier),
        ("oauth.refresh_token", secrets.refresh_token),
    ] {
        if let Some(value) = value {
            all = all.with(name, value);
        }
    }
    let content_type = spec
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-type"))
        .map(|h| h.value.to_ascii_lowercase())
        .unwrap_or_default();
    // Everything this request may carry is scrubbed from what comes back.
    let redactor = Redactor::new(all.values());
    let mut request = http::Request::post(url.as_str());
    for header in &spec.headers {
        request = request.header(header.name.as_str(), fill(&header.value, &all, "")?);
    }
    let request = request
        .body(fill(&spec.body, &all, &content_type)?.into_bytes())
        .map_err(|e| OAuthError::Config(format!("the plugin's token request is malformed: {e}")))?;
    let response = http
        .send(request)
        .await
        .map_err(|e| OAuthError::Transport(redactor.scrub(&e.to_string())))?;
    let status = response.status();
    let answer: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
    if !status.is_success() {
        let error = pointer(&answer, "/error")
            .and_then(Value::as_str)
            .unwrap_or("no error code")
            .to_string();
        let error = redactor.scrub(&error);
        // A revocation is stored with the connection: its code only. Other
        // refusals go back to the caller, scrubbed of every secret involved.
        if error == "invalid_grant" {
            return Err(OAuthError::Revoked(format!("HTTP {status}, {error}")));
        }
        let described = match pointer(&answer, "/error_description").and_then(Value::as_str) {
            Some(description) => format!("HTTP {status}, {error}: {}", redactor.scrub(description)),
            None => format!("HTTP {status}, {error}"),
        };
        return Err(OAuthError::Refused(described));
    }
    let access_token = pointer(&answer, &spec.access_token_pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            OAuthError::Transport(format!(
                "the token response has no string at {}",
                spec.access_token_pointer
            ))
        })?
        .to_string();
    let refresh_token = spec
        .refresh_token_pointer
        .as_deref()
        .and_then(|p| pointer(&answer, p))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or(previous_refresh);
    let expires_at = spec
        .expires_in_pointer
        .as_deref()
        .and_then(|p| pointer(&answer, p))
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok()))
        .map(|seconds| unix_now() + seconds);
    Ok(TokenSet {
        access_token,
        refresh_token,
        expires_at,
        scope: None,
        redirect_uri: Some(redirect_uri.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use patchbay_contract::types::Header;
    use patchbay_outbound::{HostPattern, HttpLimits};

    use super::*;

    /// A plugin whose token request misplaces the refresh token where an
    /// authorization server quotes it back.
    struct Misplacing {
        hosts: HostGrant,
        credentials: Credentials,
        url: String,
    }

    #[async_trait]
    impl OAuthPlugin for Misplacing {
        async fn authorize_url(&self, _: &AuthorizeParams) -> Result<String, CallError> {
            Ok(String::new())
        }

        async fn token_request(&self, _: &TokenGrant, _: &str) -> Result<TokenRequestSpec, CallError> {
            Ok(TokenRequestSpec {
                url: self.url.clone(),
                headers: vec![Header {
                    name: "content-type".into(),
                    value: "application/x-www-form-urlencoded".into(),
                }],
                body: "grant_type={{secret.oauth.refresh_token}}&client_secret={{secret.client_secret}}".into(),
                access_token_pointer: "/access_token".into(),
                refresh_token_pointer: None,
                expires_in_pointer: None,
            })
        }

        fn hosts(&self) -> &HostGrant {
            &self.hosts
        }

        fn credentials(&self) -> &Credentials {
            &self.credentials
        }
    }

    /// An authorization server that quotes the request body back in its
    /// error description, with the error code it is given.
    async fn echoing_server(error: &'static str) -> String {
        let app = axum::Router::new().route(
            "/token",
            axum::routing::post(move |body: String| async move {
                (
                    axum::http::StatusCode::BAD_REQUEST,
                    axum::Json(
                        serde_json::json!({ "error": error, "error_description": format!("bad request: {body}") }),
                    ),
                )
            }),
        );
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", socket.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
        url
    }

    /// Security review F7: what an authorization server quotes back never
    /// carries the refresh token or a credential, and a revocation keeps
    /// its code only.
    #[tokio::test]
    async fn token_errors_never_carry_the_secrets_of_the_request() {
        let refresh = "rt-9f8e7d6c";
        let client_secret = "cs-0a1b2c3d";
        for (error, revoked) in [("unsupported_grant_type", false), ("invalid_grant", true)] {
            let base = echoing_server(error).await;
            let plugin = Misplacing {
                hosts: HostGrant::new(vec![HostPattern::parse(&base).unwrap()], None),
                credentials: Credentials::from([("client_secret", client_secret)]),
                url: format!("{base}/token"),
            };
            let http = TokenHttp::new(&HttpLimits {
                allow_private_network: true,
                ..HttpLimits::default()
            })
            .unwrap();
            let secrets = GrantSecrets {
                refresh_token: Some(refresh.into()),
                ..GrantSecrets::default()
            };
            let failed = exchange(&plugin, &http, TokenGrant::Refresh, "https://app.example/cb", secrets)
                .await
                .unwrap_err();
            let text = failed.to_string();
            assert!(!text.contains(refresh) && !text.contains(client_secret), "{text}");
            assert_eq!(matches!(failed, OAuthError::Revoked(_)), revoked, "{text}");
            if revoked {
                assert!(
                    !text.contains("bad request"),
                    "a revocation keeps its code only: {text}"
                );
            } else {
                assert!(text.contains("[redacted]"), "the quoted body was scrubbed: {text}");
            }
        }
    }
}
