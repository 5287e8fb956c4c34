//! Outbound HTTP through the host.
//!
//! Build a [`Request`], name the credentials it needs (the host fills them
//! in; the plugin never sees them), [`send`](Request::send) it, then turn the
//! [`Response`] into data with [`Response::error_for_status`] and
//! [`Response::json`].

use crate::bindings::imports::patchbay::connector::http as wit;
use crate::bindings::imports::patchbay::connector::types::Header;
use crate::{Error, Result};

pub use wit::{HttpError, Method};

/// An outbound request under construction.
#[derive(Debug, Clone)]
pub struct Request {
    inner: wit::Request,
}

impl Request {
    /// A request with any method.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            inner: wit::Request {
                method,
                url: url.into(),
                headers: Vec::new(),
                body: None,
                auth: None,
                options: None,
            },
        }
    }

    /// A GET request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// A POST request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// A PUT request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    /// A PATCH request.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new(Method::Patch, url)
    }

    /// A DELETE request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    /// Appends a query parameter, percent-encoding name and value.
    pub fn query(mut self, name: &str, value: impl AsRef<str>) -> Self {
        let pair = form_urlencoded::Serializer::new(String::new())
            .append_pair(name, value.as_ref())
            .finish();
        let url = &mut self.inner.url;
        let separator = if url.contains('?') { '&' } else { '?' };
        url.push(separator);
        url.push_str(&pair);
        self
    }

    /// Appends a query parameter when `value` is `Some`.
    pub fn query_opt(self, name: &str, value: Option<impl AsRef<str>>) -> Self {
        match value {
            Some(value) => self.query(name, value),
            None => self,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.inner.headers.push(Header {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// Sets a raw body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.inner.body = Some(body.into());
        self
    }

    /// Sets a JSON body and `Content-Type: application/json`.
    pub fn json<T: serde::Serialize + ?Sized>(self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::Validation(format!("cannot encode the request body as JSON: {e}")))?;
        Ok(self.header("content-type", "application/json").body(bytes))
    }

    /// Sets a form body (`application/x-www-form-urlencoded`).
    pub fn form<'a>(self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }

    /// A `multipart/form-data` body (file uploads), with its content type.
    pub fn multipart(self, form: Multipart) -> Self {
        let (content_type, body) = form.finish();
        self.header("content-type", content_type).body(body)
    }

    /// HTTP Basic authentication from two credential fields.
    pub fn basic_auth(self, user_field: &str, password_field: &str) -> Self {
        self.auth(wit::Auth::Basic(wit::BasicAuth {
            user_field: user_field.into(),
            password_field: password_field.into(),
        }))
    }

    /// `Authorization: Bearer` with the value of a credential field.
    pub fn bearer_auth(self, field: &str) -> Self {
        self.auth(wit::Auth::Bearer(field.into()))
    }

    /// A header carrying a credential field, with an optional prefix
    /// (`"Bot "` for Discord).
    pub fn header_auth(self, name: &str, field: &str, prefix: Option<&str>) -> Self {
        self.auth(wit::Auth::Header(wit::HeaderAuth {
            name: name.into(),
            field: field.into(),
            prefix: prefix.map(Into::into),
        }))
    }

    /// A query parameter carrying a credential field.
    pub fn query_auth(self, param: &str, field: &str) -> Self {
        self.auth(wit::Auth::Query(wit::QueryAuth {
            param: param.into(),
            field: field.into(),
        }))
    }

    /// The connection's OAuth2 access token, managed by the host.
    pub fn oauth2(self) -> Self {
        self.auth(wit::Auth::Oauth2)
    }

    /// AWS Signature Version 4 from credential fields.
    pub fn aws_sigv4(self, service: &str, region: &str, key_id_field: &str, secret_field: &str) -> Self {
        self.auth(wit::Auth::AwsSigv4(wit::Sigv4Auth {
            service: service.into(),
            region: region.into(),
            key_id_field: key_id_field.into(),
            secret_field: secret_field.into(),
            session_token_field: None,
        }))
    }

    /// The authentication of `other`, on this request.
    pub fn auth_from(mut self, other: &Request) -> Self {
        self.inner.auth.clone_from(&other.inner.auth);
        self
    }

    fn auth(mut self, auth: wit::Auth) -> Self {
        self.inner.auth = Some(auth);
        self
    }

    fn options(&mut self) -> &mut wit::RequestOptions {
        self.inner.options.get_or_insert(wit::RequestOptions {
            timeout_ms: None,
            retry: wit::RetryMode::Automatic,
            idempotency_key: None,
        })
    }

    /// Lets the host fill the `{{secret.NAME}}` placeholders of these
    /// credential fields into the body (a login that takes a password in
    /// JSON or a form), encoded as the body's content type wants; the plugin
    /// never reads them. Name only the fields the request needs, and never
    /// on a request whose body carries text the plugin did not write.
    pub fn body_secrets(self, fields: &[&str]) -> Self {
        self.header("patchbay-body-secrets", fields.join(", "))
    }

    /// Limits this request to `ms` milliseconds (never beyond the call's deadline).
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.options().timeout_ms = Some(ms);
        self
    }

    /// Asks the host never to retry this request.
    pub fn no_retry(mut self) -> Self {
        self.options().retry = wit::RetryMode::Never;
        self
    }

    /// Sends `Idempotency-Key: key`, which also makes a POST safe to retry.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.options().idempotency_key = Some(key.into());
        self
    }

    /// The URL as built so far.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// Sends the request through the host. Any HTTP status is a success
    /// here; use [`Response::error_for_status`] to map error statuses.
    pub fn send(self) -> Result<Response> {
        self.send_raw().map_err(from_http_error)
    }

    /// Like [`send`](Self::send), but with the host's typed [`HttpError`]
    /// (`Denied`, `Timeout`, `TooLarge`, `CircuitOpen`, ...) to match on.
    pub fn send_raw(self) -> core::result::Result<Response, HttpError> {
        wit::send(&self.inner).map(Response::from)
    }

    /// Sends the request with the contents of `body` as its body, streamed
    /// by the host from its file (with its `content-length`); any body set
    /// before is an error. A retry sends the blob again; an AWS SigV4
    /// signature covers its SHA-256. (Contract 0.1.4.)
    pub fn send_blob(self, body: &crate::blob::Blob) -> Result<Response> {
        wit::send_blob(&self.inner, body)
            .map(Response::from)
            .map_err(from_http_error)
    }

    /// Sends the request and has the host write the body of a 2xx answer
    /// into a new blob as it arrives, under the host's blob size limit, not
    /// the response limit: a download of any size. An answer that is not
    /// 2xx is read whole into [`BlobResponse::body`]. (Contract 0.1.4.)
    pub fn send_into_blob(self) -> Result<BlobResponse> {
        wit::send_into_blob(&self.inner)
            .map(|r| BlobResponse {
                status: r.status,
                headers: r.headers,
                body: r.body,
                blob: r.blob,
            })
            .map_err(from_http_error)
    }

    /// Sends the request and hands over the body of a 2xx answer as it
    /// arrives ([`Streamed::read`], [`Streamed::events`]) instead of whole:
    /// for server-sent events and other long answers. The host's policy is
    /// [`send`](Self::send)'s up to the response head; an answer that is not
    /// 2xx was read whole (and retried) by the host.
    pub fn send_streamed(self) -> Result<Streamed> {
        wit::send_streamed(&self.inner)
            .map(Streamed::from)
            .map_err(from_http_error)
    }
}

/// A response whose 2xx body the host wrote into a blob
/// ([`Request::send_into_blob`]).
#[derive(Debug)]
pub struct BlobResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: Vec<Header>,
    /// The body of an answer that is not 2xx (an error document); empty
    /// for a 2xx answer.
    pub body: Vec<u8>,
    /// The body of a 2xx answer.
    pub blob: Option<crate::blob::Blob>,
}

impl BlobResponse {
    /// The first value of a header, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// The blob of a 2xx answer (check the status first: an error answer
    /// has none, and is an error here).
    pub fn into_blob(self) -> Result<crate::blob::Blob> {
        self.blob
            .ok_or_else(|| Error::provider(format!("the answer ({}) has no body in a blob", self.status)))
    }
}

/// A response whose body is read as it arrives ([`Request::send_streamed`]).
/// Dropping it closes the connection: the provider stops sending.
#[derive(Debug)]
pub struct Streamed {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: Vec<Header>,
    body: wit::BodyStream,
}

impl From<wit::StreamedResponse> for Streamed {
    fn from(r: wit::StreamedResponse) -> Self {
        Self {
            status: r.status,
            headers: r.headers,
            body: r.body,
        }
    }
}

impl Streamed {
    /// The first value of a header, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The next bytes of the body, at most `max`, waiting until some
    /// arrive; `None` at its end.
    pub fn read(&self, max: u32) -> Result<Option<Vec<u8>>> {
        self.body.read(max).map_err(from_http_error)
    }

    /// The rest of the body, read whole, as a [`Response`] (an error answer,
    /// or a short one).
    pub fn into_response(self) -> Result<Response> {
        let mut body = Vec::new();
        while let Some(chunk) = self.read(64 * 1024)? {
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status: self.status,
            headers: self.headers,
            body,
        })
    }

    /// The body as server-sent events, each as soon as it is complete.
    pub fn events(self) -> crate::sse::Events {
        let body = self.body;
        crate::sse::Events::new(move || body.read(16 * 1024).map_err(from_http_error))
    }
}

/// Maps why the host could not get a response to the plugin's error.
pub(crate) fn from_http_error(error: wit::HttpError) -> Error {
    match error {
        wit::HttpError::Denied(why) => Error::permanent(format!("denied by host policy: {why}")),
        wit::HttpError::Timeout(why) => Error::provider(format!("timed out: {why}")),
        wit::HttpError::Connection(why) => Error::provider(format!("connection failed: {why}")),
        wit::HttpError::TooLarge(limit) => {
            Error::permanent(format!("response larger than the host's limit of {limit} bytes"))
        }
        wit::HttpError::RateLimited(after) => Error::RateLimited(after),
        wit::HttpError::CircuitOpen(why) => Error::provider(format!("circuit open: {why}")),
        wit::HttpError::InvalidRequest(why) => Error::Validation(format!("invalid request: {why}")),
    }
}

/// A response from the provider.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: Vec<Header>,
    /// The body.
    pub body: Vec<u8>,
}

impl From<wit::Response> for Response {
    fn from(r: wit::Response) -> Self {
        Self {
            status: r.status,
            headers: r.headers,
            body: r.body,
        }
    }
}

/// A fresh idempotency key for one request (`patchbay-{operation}-` and 128
/// random bits): the host sends it in `Idempotency-Key` on every attempt
/// and may then retry a POST, which providers either answer with the first
/// result (Stripe) or can repeat without harm (an LLM completion).
pub fn idempotency_key(operation: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the host's randomness (wasi:random).
    let word = || std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("patchbay-{operation}-{:016x}{:016x}", word(), word())
}

/// The first value of parameter `name` in a query string (`a=1&b=x%20y`),
/// decoded — as a webhook handshake reads `hub.challenge`.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The first value of header `name` (compared case-insensitively) in a
/// list: a response's, or a webhook delivery's.
pub fn header_value<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

impl Response {
    /// The first value of a header, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Decodes the body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::permanent(format!("the provider's response is not the expected JSON: {e}")))
    }

    /// The body as a JSON array of `T`, each item with its JSON text
    /// verbatim, read in one pass ([`crate::client::raw_items`]): a list
    /// page whose items keep their raw payload.
    pub fn raw_items<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<crate::client::Raw<T>>> {
        crate::client::raw_items(&self.body)
    }

    /// `Retry-After` in seconds, when it is given as a number of seconds.
    /// (The host itself also honours the HTTP-date form when retrying.)
    pub fn retry_after(&self) -> Option<u32> {
        self.header("retry-after")?.trim().parse().ok()
    }

    /// Passes 2xx through; maps any other status with
    /// [`Error::from_status`], using the provider's own message when the
    /// body has one.
    pub fn error_for_status(self) -> Result<Self> {
        if self.is_success() {
            return Ok(self);
        }
        Err(Error::from_status(
            self.status,
            self.error_message(),
            self.retry_after(),
        ))
    }

    /// The provider's error message: common JSON shapes (`message`,
    /// `error.message`, `error_description`, `error`, `errors[0].message`),
    /// else the start of the body.
    pub fn error_message(&self) -> String {
        let text = self.text();
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
            let candidates = [
                value.pointer("/message"),
                value.pointer("/error/message"),
                value.pointer("/error_description"),
                value.pointer("/error"),
                value.pointer("/errors/0/message"),
                value.pointer("/description"),
            ];
            if let Some(message) = candidates.into_iter().flatten().find_map(|v| v.as_str()) {
                return format!("HTTP {}: {message}", self.status);
            }
        }
        let snippet: String = text.chars().take(300).collect();
        if snippet.trim().is_empty() {
            format!("HTTP {}", self.status)
        } else {
            format!("HTTP {}: {}", self.status, snippet.trim())
        }
    }
}

/// A `multipart/form-data` body (RFC 7578): text fields and files, for
/// providers that take uploads that way (Telegram's `sendDocument`, OpenAI's
/// transcriptions). The boundary is random, 128 bits.
#[derive(Debug, Clone)]
pub struct Multipart {
    boundary: String,
    body: Vec<u8>,
}

impl Default for Multipart {
    fn default() -> Self {
        Self::new()
    }
}

/// A field or file name as a quoted parameter: quotes and line breaks
/// escaped as browsers do (WHATWG HTML's form encoding).
fn quoted(name: &str) -> String {
    name.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A")
}

impl Multipart {
    /// An empty form.
    pub fn new() -> Self {
        use std::hash::{BuildHasher, Hasher};
        // RandomState is seeded from the host's randomness (wasi:random).
        let word = || std::collections::hash_map::RandomState::new().build_hasher().finish();
        Self {
            boundary: format!("patchbay-{:016x}{:016x}", word(), word()),
            body: Vec::new(),
        }
    }

    fn part(&mut self, disposition: String, content_type: Option<&str>, data: &[u8]) {
        self.body
            .extend_from_slice(format!("--{}\r\n", self.boundary).as_bytes());
        self.body.extend_from_slice(disposition.as_bytes());
        if let Some(content_type) = content_type {
            self.body
                .extend_from_slice(format!("\r\ncontent-type: {content_type}").as_bytes());
        }
        self.body.extend_from_slice(b"\r\n\r\n");
        self.body.extend_from_slice(data);
        self.body.extend_from_slice(b"\r\n");
    }

    /// A text field.
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.part(
            format!("content-disposition: form-data; name=\"{}\"", quoted(name)),
            None,
            value.as_bytes(),
        );
        self
    }

    /// A file.
    pub fn file(mut self, name: &str, filename: &str, content_type: &str, data: &[u8]) -> Self {
        let content_type = if content_type.trim().is_empty() {
            "application/octet-stream"
        } else {
            content_type
        };
        self.part(
            format!(
                "content-disposition: form-data; name=\"{}\"; filename=\"{}\"",
                quoted(name),
                quoted(filename)
            ),
            Some(content_type),
            data,
        );
        self
    }

    /// The content type (with the boundary) and the body.
    pub fn finish(mut self) -> (String, Vec<u8>) {
        self.body
            .extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (format!("multipart/form-data; boundary={}", self.boundary), self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::{Multipart, idempotency_key};

    #[test]
    fn idempotency_keys_differ() {
        assert_ne!(idempotency_key("refund"), idempotency_key("refund"));
        assert!(idempotency_key("refund").starts_with("patchbay-refund-"));
    }

    #[test]
    fn multipart_bodies_are_well_formed() {
        let (content_type, body) = Multipart::new()
            .text("chat_id", "42")
            .file(
                "document",
                "r\u{e9}sum\u{e9} \"v2\".pdf",
                "application/pdf",
                b"%PDF-1.4\r\n--x",
            )
            .finish();
        let boundary = content_type.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n"
        )));
        assert!(text.contains(
            "filename=\"r\u{e9}sum\u{e9} %22v2%22.pdf\"\r\ncontent-type: application/pdf\r\n\r\n%PDF-1.4\r\n--x\r\n"
        ));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
        assert_ne!(Multipart::new().boundary, Multipart::new().boundary);
    }

    #[test]
    fn query_params_are_decoded() {
        let query = "hub.mode=subscribe&hub.verify_token=a%20b+c&hub.challenge=1158201444";
        assert_eq!(super::query_param(query, "hub.verify_token").as_deref(), Some("a b c"));
        assert_eq!(
            super::query_param(&format!("?{query}"), "hub.mode").as_deref(),
            Some("subscribe")
        );
        assert_eq!(super::query_param(query, "missing"), None);
    }
}
