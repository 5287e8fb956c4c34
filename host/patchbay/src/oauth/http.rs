//! The HTTP client of the host's own OAuth2 requests (token exchanges,
//! refreshes, client credentials), standard or plugin-described: the
//! pipeline's address guard (names after DNS, literal addresses before
//! sending), no redirects, the pipeline's timeouts, and a size cap on what a
//! token endpoint may answer.

use futures::StreamExt as _;
use patchbay_outbound::{HttpLimits, guarded_client, network};
use url::Url;

/// The largest answer accepted from a token endpoint.
pub(crate) const MAX_TOKEN_RESPONSE_BYTES: usize = 1024 * 1024;

/// Why a token request got no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenHttpError {
    /// The address is refused (private, loopback, link-local, ...).
    #[error("{0}")]
    Blocked(String),
    /// The answer is larger than [`MAX_TOKEN_RESPONSE_BYTES`].
    #[error("the token endpoint's answer is larger than {MAX_TOKEN_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// The request could not be made or the answer read.
    #[error("{0}")]
    Transport(String),
}

/// Sends the host's token requests.
#[derive(Clone)]
pub(crate) struct TokenHttp {
    client: reqwest::Client,
    allow_private_network: bool,
}

fn transport(error: reqwest::Error) -> TokenHttpError {
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        if let Some(blocked) = cause.downcast_ref::<network::BlockedAddress>() {
            return TokenHttpError::Blocked(blocked.to_string());
        }
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    TokenHttpError::Transport(message)
}

impl TokenHttp {
    /// A client with the pipeline's guard and timeouts.
    pub(crate) fn new(limits: &HttpLimits) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: guarded_client(limits)?,
            allow_private_network: limits.allow_private_network,
        })
    }

    /// Sends one token request and reads its answer, at most
    /// [`MAX_TOKEN_RESPONSE_BYTES`] of it.
    pub(crate) async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TokenHttpError> {
        let (parts, body) = request.into_parts();
        let url = Url::parse(&parts.uri.to_string())
            .map_err(|e| TokenHttpError::Transport(format!("the token URL is not a URL: {e}")))?;
        network::check_url(&url, self.allow_private_network).map_err(|b| TokenHttpError::Blocked(b.to_string()))?;
        let response = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        if response
            .content_length()
            .is_some_and(|len| len > MAX_TOKEN_RESPONSE_BYTES as u64)
        {
            return Err(TokenHttpError::TooLarge);
        }
        let mut answer = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        let mut body = Vec::new();
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(transport)?;
            if body.len() + chunk.len() > MAX_TOKEN_RESPONSE_BYTES {
                return Err(TokenHttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        answer
            .body(body)
            .map_err(|e| TokenHttpError::Transport(format!("unreadable answer: {e}")))
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for TokenHttp {
    type Error = TokenHttpError;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, TokenHttpError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
