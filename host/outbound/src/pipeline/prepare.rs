//! A request made ready to send: secrets filled into its URL, headers and
//! body, the auth scheme applied, SigV4 signed last.

use url::Url;

use crate::auth::{self, AuthError, AuthScheme};
use crate::{OutboundError, OutboundRequest, RequestBody, RequestContext};
use patchbay_secrets::template;

pub(super) fn denied(error: AuthError) -> OutboundError {
    OutboundError::Denied(error.to_string())
}

/// A request after credentials were applied, and the header names that
/// carry credentials (stripped when a redirect leaves the origin).
#[derive(Clone)]
pub(super) struct Prepared {
    pub(super) method: reqwest::Method,
    pub(super) url: Url,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Option<RequestBody>,
    pub(super) credential_headers: Vec<String>,
    /// Values the host derived and put in (auth headers, query values):
    /// scrubbed from the response besides the connection's secrets.
    pub(super) injected: Vec<String>,
    /// Whether the body carries credentials the host filled in: it never
    /// follows a redirect to another origin.
    pub(super) body_secrets: bool,
}

/// The request header in which a plugin names the credential fields whose
/// `{{secret.NAME}}` placeholders the host fills into the body (a login
/// that takes a password in JSON); never sent.
pub const BODY_SECRETS_HEADER: &str = "patchbay-body-secrets";

/// The connection's OAuth2 access token; `rejected` is one the provider refused.
pub(super) async fn oauth_token(ctx: &RequestContext, rejected: Option<&str>) -> Result<String, OutboundError> {
    let source = ctx.oauth.as_ref().ok_or_else(|| {
        OutboundError::Denied(
            "the request asks for the connection's OAuth2 access token, but the connection has no OAuth2 session \
             (its plugin declares no OAuth2 endpoints or oauth capability, or the connection lacks the OAuth2 client id)"
                .into(),
        )
    })?;
    source
        .access_token(rejected)
        .await
        .map_err(|why| OutboundError::Denied(format!("no OAuth2 access token: {why}")))
}

impl Prepared {
    /// Sets a header that carries a credential (replacing any of that name);
    /// it is stripped if a redirect leaves the origin.
    pub(super) fn set_credential_header(&mut self, name: String, value: String) {
        self.headers.retain(|(n, _)| *n != name);
        if !self.credential_headers.contains(&name) {
            self.credential_headers.push(name.clone());
        }
        self.injected.push(value.clone());
        self.headers.push((name, value));
    }

    /// The OAuth2 access token where the scheme puts it (`Authorization:
    /// Bearer`, or a provider's own header).
    pub(super) fn set_oauth_token(&mut self, (name, prefix): &(String, String), token: &str) {
        self.set_credential_header(name.clone(), format!("{prefix}{token}"));
    }
}

pub(super) async fn prepare(
    ctx: &RequestContext,
    request: OutboundRequest,
    oauth_token: Option<&str>,
) -> Result<Prepared, OutboundError> {
    let credentials = &ctx.credentials;
    let mut prepared = Prepared {
        method: request.method,
        url: template::fill_url_secrets(&request.url, credentials).map_err(|e| denied(e.into()))?,
        headers: Vec::with_capacity(request.headers.len() + 2),
        body: request.body,
        credential_headers: Vec::new(),
        injected: Vec::new(),
        body_secrets: false,
    };
    let mut body_fields: Vec<String> = Vec::new();
    for (name, value) in request.headers {
        let name = name.to_ascii_lowercase();
        if name == BODY_SECRETS_HEADER {
            body_fields.extend(value.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()));
            continue;
        }
        if template::has_secret(&value) {
            let value = template::fill_secrets(&value, credentials).map_err(|e| denied(e.into()))?;
            prepared.credential_headers.push(name.clone());
            prepared.headers.push((name, value));
        } else {
            prepared.headers.push((name, value));
        }
    }
    if !body_fields.is_empty()
        && let Some(RequestBody::Blob(_)) = &prepared.body
    {
        return Err(OutboundError::InvalidRequest(format!(
            "{BODY_SECRETS_HEADER} names credential fields, but the body is a blob: the host fills secrets only into bodies in hand"
        )));
    }
    if !body_fields.is_empty()
        && let Some(RequestBody::Bytes(body)) = &prepared.body
    {
        let content_type = prepared
            .headers
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.as_str());
        let encoding = template::BodyEncoding::for_content_type(content_type);
        let fields: Vec<&str> = body_fields.iter().map(String::as_str).collect();
        match template::fill_body_secrets(body, &fields, encoding, credentials).map_err(|e| denied(e.into()))? {
            Some((filled_body, values)) => {
                prepared.body_secrets = !values.is_empty();
                prepared.injected.extend(values);
                prepared.body = Some(RequestBody::Bytes(filled_body));
            }
            None => {
                return Err(OutboundError::InvalidRequest(format!(
                    "{BODY_SECRETS_HEADER} names credential fields, but the body is not text"
                )));
            }
        }
    }
    let oauth_header = request.auth.as_ref().and_then(AuthScheme::oauth_header);
    match (&request.auth, oauth_token) {
        (Some(_), Some(token)) if oauth_header.is_some() => {
            prepared.set_oauth_token(oauth_header.as_ref().expect("checked"), token);
        }
        // SigV4 signs the final request, so it comes last.
        (Some(AuthScheme::AwsSigV4 { .. }), _) | (None, _) => {}
        (Some(scheme), _) => {
            let applied = auth::apply(scheme, credentials).map_err(denied)?;
            for (name, value) in applied.headers {
                prepared.set_credential_header(name, value);
            }
            if !applied.query.is_empty() {
                prepared.injected.extend(applied.query.iter().map(|(_, v)| v.clone()));
                prepared
                    .url
                    .query_pairs_mut()
                    .extend_pairs(applied.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            }
        }
    }
    if let Some(key) = request.idempotency_key {
        prepared.headers.retain(|(n, _)| n != "idempotency-key");
        prepared.headers.push(("idempotency-key".into(), key));
    }
    if let Some(scheme @ AuthScheme::AwsSigV4 { service, .. }) = &request.auth {
        ctx.may_sign_for(service).map_err(OutboundError::Denied)?;
        let hash;
        let body = match &prepared.body {
            Some(RequestBody::Blob(range)) => {
                hash = range.sha256_hex().await.map_err(|e| {
                    OutboundError::InvalidRequest(format!("cannot read the blob to sign its payload: {e}"))
                })?;
                auth::SigV4Payload::Sha256(&hash)
            }
            Some(RequestBody::Bytes(bytes)) => auth::SigV4Payload::Bytes(bytes),
            None => auth::SigV4Payload::Bytes(b""),
        };
        let signable = auth::SigV4Request {
            method: prepared.method.as_str(),
            url: prepared.url.as_str(),
            headers: &prepared.headers,
            body,
        };
        let signed =
            auth::sigv4_headers(signable, scheme, credentials, std::time::SystemTime::now()).map_err(denied)?;
        for (name, value) in signed {
            // The date and the payload hash are signed, not secret: only the
            // signature and the session token are scrubbed from responses.
            let secret = matches!(name.as_str(), "authorization" | "x-amz-security-token");
            prepared.set_credential_header(name, value);
            if !secret {
                prepared.injected.pop();
            }
        }
    }
    Ok(prepared)
}
