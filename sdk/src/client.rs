//! A provider's REST client: the base URL, the authentication, the default
//! headers and the provider's error body, said once; then each call is a
//! path, its parameters and the type to read.
//!
//! ```no_run
//! use patchbay_sdk::prelude::*;
//! use patchbay_sdk::client::{Client, Raw};
//!
//! #[derive(serde::Deserialize)]
//! struct Order { id: u64, status: String }
//!
//! # fn demo() -> Result<()> {
//! let shop = Client::from_setting("domain")?
//!     .path("/wp-json/wc/v3")
//!     .basic_auth("consumer_key", "consumer_secret");
//! // Typed, in one pass; each order's own JSON kept verbatim for provider-meta.
//! let orders: Vec<Raw<Order>> = shop.get("orders").query("per_page", "50").json()?;
//! for order in &orders {
//!     println!("{} {} ({} bytes of JSON)", order.id, order.status, order.raw().len());
//! }
//! # Ok(())
//! # }
//! ```

use std::ops::Deref;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::http::{Method, Request, Response};
use crate::types::ConnectionTest;
use crate::{Error, Result, config};

/// Reads a provider's error response into an error, when the body says more
/// than the status does (an error code that means bad credentials, a
/// retry delay); `None` leaves it to the status table.
pub type ErrorMapper = fn(&Response) -> Option<Error>;

/// A provider's API: base URL, authentication, default headers, error body.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    /// A request carrying the authentication every call copies.
    auth: Option<Request>,
    headers: Vec<(String, String)>,
    errors: Option<ErrorMapper>,
}

/// `https://` in front of a bare host name; no trailing slash.
fn origin(value: &str) -> String {
    let value = value.trim().trim_end_matches('/');
    if value.contains("://") {
        value.to_string()
    } else {
        format!("https://{value}")
    }
}

impl Client {
    /// A client for a fixed base URL, e.g. `https://discord.com/api/v10`.
    pub fn new(base_url: impl AsRef<str>) -> Self {
        Self {
            base: origin(base_url.as_ref()),
            auth: None,
            headers: Vec::new(),
            errors: None,
        }
    }

    /// A client for the URL in a required setting (a bare host name means
    /// HTTPS), e.g. a shop's domain.
    pub fn from_setting(name: &str) -> Result<Self> {
        let value = config::require(name)?;
        if value.trim().is_empty() {
            return Err(Error::Config(format!("the setting {name:?} is empty")));
        }
        Ok(Self::new(value))
    }

    /// A client for the URL in an optional setting, else `default`.
    pub fn from_setting_or(name: &str, default: &str) -> Result<Self> {
        Ok(match config::get(name)? {
            Some(value) if !value.trim().is_empty() => Self::new(value),
            _ => Self::new(default),
        })
    }

    /// Appends a fixed path to the base, e.g. `/wp-json/wc/v3`.
    pub fn path(mut self, path: &str) -> Self {
        self.base.push('/');
        self.base.push_str(path.trim_matches('/'));
        self
    }

    /// The base URL every call starts from.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Adds a header to every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// How the provider's error responses read; see [`ErrorMapper`].
    pub fn errors(mut self, mapper: ErrorMapper) -> Self {
        self.errors = Some(mapper);
        self
    }

    /// Authenticates every request the way `configure` sets up a request:
    /// `|r| r.basic_auth("key", "secret")`. The shorthands below cover the
    /// usual cases.
    pub fn auth_with(mut self, configure: impl FnOnce(Request) -> Request) -> Self {
        self.auth = Some(configure(Request::get(String::new())));
        self
    }

    /// HTTP Basic from two credential fields, on every request.
    pub fn basic_auth(self, user_field: &str, password_field: &str) -> Self {
        self.auth_with(|r| r.basic_auth(user_field, password_field))
    }

    /// `Authorization: Bearer` with a credential field, on every request.
    pub fn bearer_auth(self, field: &str) -> Self {
        self.auth_with(|r| r.bearer_auth(field))
    }

    /// A credential field in a header (with an optional prefix such as
    /// `"Bot "`), on every request.
    pub fn header_auth(self, name: &str, field: &str, prefix: Option<&str>) -> Self {
        self.auth_with(|r| r.header_auth(name, field, prefix))
    }

    /// A credential field in a query parameter, on every request.
    pub fn query_auth(self, param: &str, field: &str) -> Self {
        self.auth_with(|r| r.query_auth(param, field))
    }

    /// The connection's OAuth2 access token, on every request.
    pub fn oauth2(self) -> Self {
        self.auth_with(Request::oauth2)
    }

    /// A call with any method; `path` is relative to the base (or a full
    /// URL of the same API, such as a next-page link).
    pub fn call(&self, method: Method, path: &str) -> Call {
        let url = if path.contains("://") {
            path.to_string()
        } else if path.is_empty() {
            self.base.clone()
        } else {
            format!("{}/{}", self.base, path.trim_start_matches('/'))
        };
        let mut request = Request::new(method, url);
        if let Some(template) = &self.auth {
            request = request.auth_from(template);
        }
        for (name, value) in &self.headers {
            request = request.header(name.clone(), value.clone());
        }
        Call {
            errors: self.errors,
            request,
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Call {
        self.call(Method::Get, path)
    }

    /// `POST path`.
    pub fn post(&self, path: &str) -> Call {
        self.call(Method::Post, path)
    }

    /// `PUT path`.
    pub fn put(&self, path: &str) -> Call {
        self.call(Method::Put, path)
    }

    /// `PATCH path`.
    pub fn patch(&self, path: &str) -> Call {
        self.call(Method::Patch, path)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Call {
        self.call(Method::Delete, path)
    }
}

/// Passes a 2xx response through; maps any other with the client's
/// [`ErrorMapper`], then the status table ([`Error::from_status`]).
fn check(errors: Option<ErrorMapper>, response: Response) -> Result<Response> {
    if response.is_success() {
        return Ok(response);
    }
    if let Some(error) = errors.and_then(|map| map(&response)) {
        return Err(error);
    }
    response.error_for_status()
}

/// One request of a [`Client`], being built.
#[derive(Debug)]
#[must_use = "a call does nothing until it is sent"]
pub struct Call {
    errors: Option<ErrorMapper>,
    request: Request,
}

impl Call {
    /// Appends a query parameter.
    pub fn query(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.request = self.request.query(name, value);
        self
    }

    /// Appends a query parameter when there is a value.
    pub fn query_opt(mut self, name: &str, value: Option<impl AsRef<str>>) -> Self {
        self.request = self.request.query_opt(name, value);
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    /// A JSON body, serialized straight from `body`.
    pub fn body_json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        self.request = self.request.json(body)?;
        Ok(self)
    }

    /// A form body.
    pub fn form<'a>(mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        self.request = self.request.form(pairs);
        self
    }

    /// A raw body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.request = self.request.body(body);
        self
    }

    /// `Idempotency-Key`; also makes a POST safe for the host to retry.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.request = self.request.idempotency_key(key);
        self
    }

    /// Never retried by the host.
    pub fn no_retry(mut self) -> Self {
        self.request = self.request.no_retry();
        self
    }

    /// A timeout for this request, in milliseconds.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.request = self.request.timeout_ms(ms);
        self
    }

    /// Lets the host fill these credential fields' placeholders into the
    /// body ([`Request::body_secrets`]).
    pub fn body_secrets(mut self, fields: &[&str]) -> Self {
        self.request = self.request.body_secrets(fields);
        self
    }

    /// Changes the request in any other way.
    pub fn with(mut self, change: impl FnOnce(Request) -> Request) -> Self {
        self.request = change(self.request);
        self
    }

    /// Sends it; a non-2xx response is an error, mapped as the client says.
    pub fn send(self) -> Result<Response> {
        let response = self.request.send()?;
        check(self.errors, response)
    }

    /// Sends it and hands over a 2xx body as it arrives (server-sent
    /// events: [`Streamed::events`](crate::http::Streamed::events)); any
    /// other answer is read whole and mapped as the client says.
    pub fn stream(self) -> Result<crate::http::Streamed> {
        let streamed = self.request.send_streamed()?;
        if streamed.is_success() {
            return Ok(streamed);
        }
        Err(check(self.errors, streamed.into_response()?).err().unwrap_or_else(|| {
            Error::provider("the provider's answer changed from an error to a success while it was read")
        }))
    }

    /// Sends it with the contents of `body` as its body (see
    /// [`Request::send_blob`](crate::http::Request::send_blob)); a non-2xx
    /// response is an error, mapped as the client says.
    pub fn send_blob(self, body: &crate::blob::Blob) -> Result<Response> {
        let response = self.request.send_blob(body)?;
        check(self.errors, response)
    }

    /// Sends it and has the host write a 2xx body into a new blob (see
    /// [`Request::send_into_blob`](crate::http::Request::send_into_blob)): a
    /// download of any size. Any other answer is mapped as the client says.
    pub fn blob(self) -> Result<crate::blob::Blob> {
        self.blob_response()?.into_blob()
    }

    /// [`blob`](Self::blob) with the answer's status and headers (a `206`
    /// and its `Content-Range` for a ranged read).
    pub fn blob_response(self) -> Result<crate::http::BlobResponse> {
        let answer = self.request.send_into_blob()?;
        if (200..300).contains(&answer.status) {
            return Ok(answer);
        }
        let response = Response {
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
        };
        Err(check(self.errors, response)
            .err()
            .unwrap_or_else(|| Error::provider("the provider's error answer was taken for a success")))
    }

    /// A `multipart/form-data` body (file uploads).
    pub fn multipart(mut self, form: crate::http::Multipart) -> Self {
        self.request = self.request.multipart(form);
        self
    }

    /// Sends it and reads the body as `T`, in one pass.
    pub fn json<T: DeserializeOwned>(self) -> Result<T> {
        self.send()?.json()
    }

    /// Sends it as the connection check. A 2xx goes to `connected`, which
    /// says what it found ([`connected`] for a plain message); refused
    /// credentials (`auth`) are `success: false` with the provider's
    /// message; any other error stays an error (the provider being down says
    /// nothing about the credentials).
    pub fn test_connection(self, connected: impl FnOnce(Response) -> Result<ConnectionTest>) -> Result<ConnectionTest> {
        match self.send() {
            Ok(response) => connected(response),
            Err(Error::Auth(why)) => refused(format!("the provider refused the credentials: {why}")),
            Err(other) => Err(other),
        }
    }
}

/// A connection check the provider failed for its credentials: `success:
/// false` with `message`, no details (any other error stays an error).
pub fn refused(message: impl Into<String>) -> Result<ConnectionTest> {
    Ok(ConnectionTest {
        success: false,
        message: message.into(),
        details: "{}".into(),
    })
}

/// A successful connection check with a message and no details.
pub fn connected(message: impl Into<String>) -> Result<ConnectionTest> {
    Ok(ConnectionTest {
        success: true,
        message: message.into(),
        details: "{}".into(),
    })
}

/// A value read from JSON together with its JSON text, verbatim: the `T`
/// for the mapping, the text for `provider-meta.raw-payload`. Reading a
/// `Raw<T>` builds no `Value` tree and re-serializes nothing; reading a
/// list of them with [`raw_items`] (or [`Response::raw_items`]) reads the
/// body once.
#[derive(Debug)]
pub struct Raw<T> {
    value: T,
    raw: Box<str>,
}

impl<T> Raw<T> {
    /// The JSON text the value was read from.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The value, without its text.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The value and its text, the text moved out (not copied): for a
    /// `raw-payload` built from it.
    pub fn into_parts(self) -> (T, String) {
        (self.value, self.raw.into())
    }
}

impl<T> Deref for Raw<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: DeserializeOwned> serde::Deserialize<'de> for Raw<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> core::result::Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let value = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        Ok(Self { value, raw: raw.into() })
    }
}

/// Reads a JSON array of `T` in one pass over `body`: each item typed
/// straight from the bytes (no `Value` tree, no second parse), with its
/// JSON text kept verbatim. A list page of a provider's API is read this
/// way ([`Response::raw_items`]).
pub fn raw_items<T: DeserializeOwned>(body: &[u8]) -> Result<Vec<Raw<T>>> {
    let fail = |offset: usize, why: &dyn core::fmt::Display| {
        Error::permanent(format!(
            "the provider's response is not the expected JSON array (at byte {offset}): {why}"
        ))
    };
    let skip = |mut at: usize| {
        while body.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        at
    };
    // Checked once here, so that each string the parser reads is taken as
    // it is instead of checked again (most of a page is strings).
    let text = core::str::from_utf8(body).map_err(|e| fail(e.valid_up_to(), &e))?;
    let mut at = skip(0);
    if body.get(at) != Some(&b'[') {
        return Err(fail(at, &"expected `[`"));
    }
    at = skip(at + 1);
    let mut items = Vec::new();
    if body.get(at) == Some(&b']') {
        at += 1;
    } else {
        loop {
            let mut stream = serde_json::Deserializer::from_str(&text[at..]).into_iter::<T>();
            let value = match stream.next() {
                Some(Ok(value)) => value,
                Some(Err(error)) => {
                    let why = format!(
                        "item {} (line and column counted from its start): {error}",
                        items.len() + 1
                    );
                    return Err(fail(at, &why));
                }
                None => return Err(fail(at, &"the array ends early")),
            };
            let end = at + stream.byte_offset();
            items.push(Raw {
                value,
                raw: text[at..end].into(),
            });
            at = skip(end);
            match body.get(at) {
                Some(b',') => at = skip(at + 1),
                Some(b']') => {
                    at += 1;
                    break;
                }
                _ => return Err(fail(at, &"expected `,` or `]`")),
            }
        }
    }
    if skip(at) != body.len() {
        return Err(fail(at, &"trailing characters after the array"));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Order {
        id: u64,
    }

    #[test]
    fn raw_keeps_the_text_verbatim() {
        let text = r#"[{"id": 7,  "extra": {"a": [1, 2]}}, {"id":8}]"#;
        let orders: Vec<Raw<Order>> = serde_json::from_str(text).unwrap();
        assert_eq!(orders[0].id, 7);
        assert_eq!(orders[0].raw(), r#"{"id": 7,  "extra": {"a": [1, 2]}}"#);
        assert_eq!(orders[1].raw(), r#"{"id":8}"#);
        let bad: core::result::Result<Vec<Raw<Order>>, _> = serde_json::from_str(r#"[{"id": "x"}]"#);
        assert!(bad.is_err());
    }

    #[test]
    fn raw_items_reads_a_list_in_one_pass() {
        let text = " [ {\"id\": 7,  \"extra\": {\"a\": [1, 2]}} ,\n{\"id\":8}]\n";
        let orders: Vec<Raw<Order>> = raw_items(text.as_bytes()).unwrap();
        assert_eq!(orders.len(), 2);
        assert_eq!((orders[0].id, orders[1].id), (7, 8));
        assert_eq!(orders[0].raw(), r#"{"id": 7,  "extra": {"a": [1, 2]}}"#);
        assert_eq!(orders[1].raw(), r#"{"id":8}"#);
        assert!(raw_items::<Order>(b"[]").unwrap().is_empty());
        assert!(raw_items::<Order>(b" [ ] ").unwrap().is_empty());
        for (bad, why) in [
            (&b"{\"id\": 1}"[..], "expected `[`"),
            (b"[{\"id\": 1}", "expected `,` or `]`"),
            (b"[{\"id\": 1},]", "at byte 11): item 2"),
            (b"[{\"id\": 1}] x", "trailing characters"),
            (
                b"[{\"id\": 1}, {\"id\": \"x\"}]",
                "at byte 12): item 2 (line and column counted from its start): invalid type",
            ),
            (b"", "expected `[`"),
            (b"[{\"id\": 1, \"x\": \"\xff\"}]", "at byte 17): invalid utf-8"),
        ] {
            let error = raw_items::<Order>(bad).unwrap_err().to_string();
            assert!(error.contains(why), "{:?}: {error}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn bases_and_paths() {
        assert_eq!(origin("shop.example.com/"), "https://shop.example.com");
        assert_eq!(origin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        let client = Client::new("http://x").path("/wp-json/wc/v3/");
        assert_eq!(client.base(), "http://x/wp-json/wc/v3");
        assert_eq!(client.get("orders/1").request.url(), "http://x/wp-json/wc/v3/orders/1");
        assert_eq!(client.get("http://x/next?page=2").request.url(), "http://x/next?page=2");
    }
}
