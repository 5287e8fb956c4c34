//! The production outbound pipeline.
//!
//! Order of steps for every request: allowlist → credentials → send with
//! timeouts and a streamed size limit → redirects followed here, each hop
//! re-checked against the allowlist, credentials never forwarded to
//! another origin.

use std::time::{Duration, Instant};

use url::Url;

use super::auth::{self, AuthError, AuthScheme};
use super::{OutboundError, OutboundPolicy, OutboundRequest, OutboundResponse, RequestContext};

/// Limits of the outbound pipeline.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Default total time of one request (a plugin may ask for less).
    pub request_timeout: Duration,
    /// Largest response body accepted, in bytes; enforced while reading.
    pub max_response_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: u32,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_response_bytes: 16 * 1024 * 1024,
            max_redirects: 10,
        }
    }
}

/// The standard [`OutboundPolicy`], over a pooled `reqwest` client.
#[derive(Debug, Clone)]
pub struct Pipeline {
    client: reqwest::Client,
    limits: HttpLimits,
}

impl Pipeline {
    /// A pipeline with the given limits.
    pub fn new(limits: HttpLimits) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(limits.connect_timeout)
            .no_proxy()
            .user_agent(concat!("patchbay/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, limits })
    }

    /// The limits in force.
    pub fn limits(&self) -> &HttpLimits {
        &self.limits
    }
}

fn denied(error: AuthError) -> OutboundError {
    OutboundError::Denied(error.to_string())
}

/// A request after credentials were applied, and the header names that
/// carry credentials (stripped when a redirect leaves the origin).
struct Prepared {
    method: reqwest::Method,
    url: Url,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    credential_headers: Vec<String>,
}

fn prepare(ctx: &RequestContext, request: OutboundRequest) -> Result<Prepared, OutboundError> {
    let credentials = &ctx.credentials;
    let mut url = auth::substitute_url(&request.url, credentials).map_err(denied)?;
    let mut credential_headers = Vec::new();
    let mut headers = Vec::with_capacity(request.headers.len() + 2);
    for (name, value) in request.headers {
        let name = name.to_ascii_lowercase();
        if auth::has_placeholder(&value) {
            credential_headers.push(name.clone());
            headers.push((
                name,
                auth::substitute_placeholders(&value, credentials).map_err(denied)?,
            ));
        } else {
            headers.push((name, value));
        }
    }
    if let Some(scheme) = &request.auth {
        if matches!(scheme, AuthScheme::AwsSigV4 { .. }) {
            return Err(OutboundError::Denied(
                "the aws-sigv4 auth scheme is not supported by this host yet".into(),
            ));
        }
        let applied = auth::apply(scheme, credentials).map_err(denied)?;
        for (name, value) in applied.headers {
            headers.retain(|(n, _)| *n != name);
            credential_headers.push(name.clone());
            headers.push((name, value));
        }
        if !applied.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(applied.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
    }
    if let Some(key) = request.idempotency_key {
        headers.retain(|(n, _)| n != "idempotency-key");
        headers.push(("idempotency-key".into(), key));
    }
    Ok(Prepared {
        method: request.method,
        url,
        headers,
        body: request.body,
        credential_headers,
    })
}

impl Pipeline {
    async fn send_once(&self, prepared: &Prepared, timeout: Duration) -> Result<OutboundResponse, OutboundError> {
        let mut builder = self.client.request(prepared.method.clone(), prepared.url.clone());
        for (name, value) in &prepared.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &prepared.body {
            builder = builder.body(body.clone());
        }
        let limit = self.limits.max_response_bytes;
        let exchange = async {
            let mut response = builder.send().await.map_err(transport_error)?;
            if response.content_length().is_some_and(|len| len > limit) {
                return Err(OutboundError::TooLarge(limit));
            }
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
                if body.len() as u64 + chunk.len() as u64 > limit {
                    return Err(OutboundError::TooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(OutboundResponse { status, headers, body })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| OutboundError::Timeout(format!("no complete response within {} ms", timeout.as_millis())))?
    }
}

/// Maps a transport error without its URL, which may carry credentials.
fn transport_error(error: reqwest::Error) -> OutboundError {
    let timeout = error.is_timeout();
    let connect = error.is_connect();
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if timeout {
        OutboundError::Timeout(message)
    } else if connect {
        OutboundError::Connection(format!("cannot connect: {message}"))
    } else {
        OutboundError::Connection(message)
    }
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

#[async_trait::async_trait]
impl OutboundPolicy for Pipeline {
    async fn send(&self, ctx: &RequestContext, request: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        ctx.grant.check(&request.url).map_err(OutboundError::Denied)?;
        let plugin_timeout = request.timeout_ms.map(|ms| Duration::from_millis(u64::from(ms)));
        let mut prepared = prepare(ctx, request)?;
        let mut hops = 0;
        loop {
            let remaining = ctx.deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(OutboundError::Timeout("the call's deadline has passed".into()));
            }
            let timeout = [Some(self.limits.request_timeout), plugin_timeout, Some(remaining)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(remaining);
            let response = self.send_once(&prepared, timeout).await?;
            if !is_redirect(response.status) {
                return Ok(response);
            }
            let Some(location) = response
                .headers
                .iter()
                .find(|(n, _)| n == "location")
                .map(|(_, v)| v.clone())
            else {
                return Ok(response);
            };
            let next = prepared
                .url
                .join(&location)
                .map_err(|e| OutboundError::InvalidRequest(format!("redirect to an invalid location: {e}")))?;
            ctx.grant
                .check(&next)
                .map_err(|why| OutboundError::Denied(format!("redirect refused: {why}")))?;
            hops += 1;
            if hops > self.limits.max_redirects {
                return Err(OutboundError::Connection(format!(
                    "more than {} redirects",
                    self.limits.max_redirects
                )));
            }
            if next.origin() != prepared.url.origin() {
                let strip = std::mem::take(&mut prepared.credential_headers);
                prepared.headers.retain(|(n, _)| !strip.contains(n) && n != "cookie");
            }
            let downgrade = response.status == 303
                || (matches!(response.status, 301 | 302) && prepared.method == reqwest::Method::POST);
            if downgrade {
                prepared.method = reqwest::Method::GET;
                prepared.body = None;
                prepared
                    .headers
                    .retain(|(n, _)| n != "content-type" && n != "content-length");
            }
            prepared.url = next;
        }
    }
}
