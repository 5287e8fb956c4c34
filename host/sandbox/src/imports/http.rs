//! `http`: the guest's door to the outbound pipeline.

use url::Url;

use wasmtime::component::{HasData, Resource, ResourceTable};

use super::HttpDoor;
use super::blobs;

/// What `http` sees of a call: its door to the outbound pipeline, where its
/// streamed bodies are kept, and whether the caller of a streamed call
/// stopped listening.
pub(crate) struct HttpView<'a> {
    pub door: &'a HttpDoor,
    pub table: &'a mut ResourceTable,
    pub caller_gone: bool,
}

/// A streamed body as the call's resource table holds it.
pub(crate) struct GuestBody(BodyStream);

/// Largest read of a streamed body the guest may ask for at once.
const MAX_READ: usize = 1024 * 1024;

/// Links `http` to an [`HttpView`].
pub(crate) struct Http;

impl HasData for Http {
    type Data<'a> = HttpView<'a>;
}
use patchbay_contract::bindings::patchbay::connector::http::{
    self as wit, Blob as WitBlob, BlobResponse, BodyStream as WitBody, HttpError, Method, Request, Response,
    StreamedResponse,
};
use patchbay_contract::bindings::patchbay::connector::types::Header;
use patchbay_outbound::{AuthScheme, BodyStream, OutboundError, OutboundRequest, RequestBody, RetryMode, Timeouts};

fn method(method: &Method) -> Result<reqwest::Method, HttpError> {
    Ok(match method {
        Method::Get => reqwest::Method::GET,
        Method::Head => reqwest::Method::HEAD,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
        Method::Options => reqwest::Method::OPTIONS,
        Method::Other(name) => reqwest::Method::from_bytes(name.as_bytes())
            .map_err(|_| HttpError::InvalidRequest(format!("{name:?} is not a valid HTTP method")))?,
    })
}

fn auth(auth: wit::Auth) -> AuthScheme {
    match auth {
        wit::Auth::Basic(b) => AuthScheme::Basic {
            user_field: b.user_field,
            password_field: b.password_field,
        },
        wit::Auth::Bearer(field) => AuthScheme::Bearer { field },
        wit::Auth::Header(h) => AuthScheme::Header {
            name: h.name,
            field: h.field,
            prefix: h.prefix,
        },
        wit::Auth::Query(q) => AuthScheme::Query {
            param: q.param,
            field: q.field,
        },
        wit::Auth::Oauth2 => AuthScheme::OAuth2,
        wit::Auth::AwsSigv4(s) => AuthScheme::AwsSigV4 {
            service: s.service,
            region: s.region,
            key_id_field: s.key_id_field,
            secret_field: s.secret_field,
            session_token_field: s.session_token_field,
        },
    }
}

/// Converts the guest's request, checking what can be checked without policy.
fn outbound_request(request: Request) -> Result<OutboundRequest, HttpError> {
    let url = Url::parse(&request.url)
        .map_err(|e| HttpError::InvalidRequest(format!("{:?} is not an absolute URL: {e}", request.url)))?;
    for header in &request.headers {
        if reqwest::header::HeaderName::from_bytes(header.name.as_bytes()).is_err() {
            return Err(HttpError::InvalidRequest(format!(
                "{:?} is not a valid header name",
                header.name
            )));
        }
        if header.value.contains(['\r', '\n', '\0']) {
            return Err(HttpError::InvalidRequest(format!(
                "the value of header {:?} contains a line break",
                header.name
            )));
        }
    }
    let options = request.options;
    Ok(OutboundRequest {
        method: method(&request.method)?,
        url,
        headers: request.headers.into_iter().map(|h| (h.name, h.value)).collect(),
        body: request.body.map(RequestBody::Bytes),
        auth: request.auth.map(auth),
        timeouts: Timeouts {
            total: options
                .as_ref()
                .and_then(|o| o.timeout_ms)
                .map(|ms| std::time::Duration::from_millis(u64::from(ms))),
            ..Timeouts::default()
        },
        retry: match options.as_ref().map(|o| o.retry) {
            Some(wit::RetryMode::Never) => RetryMode::Never,
            _ => RetryMode::Automatic,
        },
        idempotency_key: options.and_then(|o| o.idempotency_key),
    })
}

fn guest_error(error: OutboundError) -> HttpError {
    match error {
        OutboundError::Denied(m) => HttpError::Denied(m),
        OutboundError::Timeout(_, m) => HttpError::Timeout(m),
        OutboundError::Connection(m) => HttpError::Connection(m),
        OutboundError::TooLarge(n) => HttpError::TooLarge(n),
        OutboundError::RateLimited(s) => HttpError::RateLimited(s),
        OutboundError::CircuitOpen(m) => HttpError::CircuitOpen(m),
        OutboundError::InvalidRequest(m) => HttpError::InvalidRequest(m),
    }
}

fn guest_headers(headers: Vec<(String, String)>) -> Vec<Header> {
    headers
        .into_iter()
        .map(|(name, value)| Header { name, value })
        .collect()
}

fn guest_response(response: patchbay_outbound::OutboundResponse) -> Response {
    Response {
        status: response.status,
        headers: guest_headers(response.headers),
        body: response.body,
    }
}

impl wit::Host for HttpView<'_> {
    async fn send_blob(
        &mut self,
        request: Request,
        body: Resource<WitBlob>,
    ) -> wasmtime::Result<Result<Response, HttpError>> {
        if request.body.is_some() {
            return Ok(Err(HttpError::InvalidRequest(
                "send-blob sends the blob as the body: the request's own body must be none".into(),
            )));
        }
        let range = blobs::held(self.table, &body)?.clone();
        let mut outbound = match outbound_request(request) {
            Ok(outbound) => outbound,
            Err(error) => return Ok(Err(error)),
        };
        outbound.body = Some(RequestBody::Blob(range));
        let result = self.door.send(outbound).await;
        Ok(result.map(guest_response).map_err(guest_error))
    }

    async fn send_into_blob(&mut self, request: Request) -> wasmtime::Result<Result<BlobResponse, HttpError>> {
        let outbound = match outbound_request(request) {
            Ok(outbound) => outbound,
            Err(error) => return Ok(Err(error)),
        };
        let response = match self.door.send_to_blob(outbound).await {
            Ok(response) => response,
            Err(error) => return Ok(Err(guest_error(error))),
        };
        let blob = match response.blob {
            Some(blob) => match blobs::lend(self.table, blob.whole()) {
                Some(held) => Some(held),
                None => return Ok(Err(HttpError::Denied(blobs::TOO_MANY.into()))),
            },
            None => None,
        };
        Ok(Ok(BlobResponse {
            status: response.status,
            headers: guest_headers(response.headers),
            body: response.body,
            blob,
        }))
    }

    async fn send_streamed(&mut self, request: Request) -> wasmtime::Result<Result<StreamedResponse, HttpError>> {
        let outbound = match outbound_request(request) {
            Ok(outbound) => outbound,
            Err(error) => return Ok(Err(error)),
        };
        let response = match self.door.send_streamed(outbound).await {
            Ok(response) => response,
            Err(error) => return Ok(Err(guest_error(error))),
        };
        // The table's capacity bounds how many bodies a call holds open.
        let body = match self.table.push(GuestBody(response.body)) {
            Ok(body) => body,
            Err(_) => {
                return Ok(Err(HttpError::Denied(
                    "this call holds too many open resources: drop the bodies it has read".into(),
                )));
            }
        };
        Ok(Ok(StreamedResponse {
            status: response.status,
            headers: guest_headers(response.headers),
            body: Resource::new_own(body.rep()),
        }))
    }

    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        let outbound = match outbound_request(request) {
            Ok(outbound) => outbound,
            Err(error) => return Ok(Err(error)),
        };
        let result = self.door.send(outbound).await;
        Ok(result.map(guest_response).map_err(guest_error))
    }
}

impl wit::HostBodyStream for HttpView<'_> {
    async fn read(
        &mut self,
        body: Resource<WitBody>,
        max: u32,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, HttpError>> {
        let held = Resource::<GuestBody>::new_borrow(body.rep());
        let caller_gone = self.caller_gone;
        let GuestBody(stream) = self.table.get_mut(&held)?;
        if caller_gone {
            // Nobody reads the chunks any more: close the upstream request.
            *stream = BodyStream::from_bytes(Vec::new());
            return Ok(Err(HttpError::Connection(
                "the caller stopped listening: the response was closed".into(),
            )));
        }
        let read = stream.read((max as usize).min(MAX_READ)).await;
        Ok(read.map_err(|error| guest_error(self.door.scrub(error))))
    }

    async fn drop(&mut self, body: Resource<WitBody>) -> wasmtime::Result<()> {
        self.table.delete(Resource::<GuestBody>::new_own(body.rep()))?;
        Ok(())
    }
}
