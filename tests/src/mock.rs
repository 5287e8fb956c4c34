//! What every mock server shares: a loopback listener and a request log.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use tokio::sync::oneshot;

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
}

impl SeenRequest {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The requests a mock received, in order.
#[derive(Debug, Default, Clone)]
pub struct RequestLog(Arc<Mutex<Vec<SeenRequest>>>);

impl RequestLog {
    /// Records a request.
    pub fn record(&self, request: SeenRequest) {
        self.0.lock().expect("request log").push(request);
    }

    /// Records a request from its parts, as a handler sees them.
    pub fn record_parts(&self, method: &axum::http::Method, path: &str, query: &str, headers: &axum::http::HeaderMap) {
        self.record(SeenRequest {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
        });
    }

    /// Every request so far.
    pub fn all(&self) -> Vec<SeenRequest> {
        self.0.lock().expect("request log").clone()
    }

    /// How many requests so far.
    pub fn count(&self) -> usize {
        self.0.lock().expect("request log").len()
    }
}

/// A mock server running on loopback until dropped.
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl RunningServer {
    /// Serves `router` on 127.0.0.1 at `port` (0 picks a free one).
    pub async fn start(router: Router, port: u16) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            shutdown: Some(tx),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
