//! `/openapi.json` (the OpenAPI 3.1 document generated from the handlers)
//! and `/docs`, a page that reads it: every operation with its parameters,
//! body and answers. Self-contained; nothing is fetched from elsewhere.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

use crate::AppState;

const PAGE: &str = include_str!("docs.html");

pub(crate) fn routes(document: Arc<String>) -> Router<AppState> {
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let document = Arc::clone(&document);
                async move { ([(header::CONTENT_TYPE, "application/json")], (*document).clone()).into_response() }
            }),
        )
        .route("/docs", get(|| async { Html(PAGE) }))
}
