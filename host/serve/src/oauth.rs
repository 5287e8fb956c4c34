//! `GET /oauth/callback`: where providers send the user back after an
//! authorization. It carries no API key — the `state` names the tenant and
//! the connection — finishes the flow, and redirects to the configured page
//! (with `connection` and `status`, or `error`) or shows a plain result page.
//! A provider's refusal (`error=access_denied`) is shown, not swallowed.

use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::problem::Problem;

/// What the provider sends back.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Callback {
    /// The anti-forgery value of the authorization.
    pub state: Option<String>,
    /// The authorization code.
    pub code: Option<String>,
    /// The provider's refusal, e.g. `access_denied`.
    pub error: Option<String>,
    /// The provider's explanation of the refusal.
    pub error_description: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2328}}\
         h1{{font-size:1.4rem}}</style></head><body><h1>{title}</h1><p>{message}</p></body></html>",
        title = escape(title),
        message = escape(message),
    );
    (status, Html(body)).into_response()
}

/// Finishes an OAuth2 authorization (the provider's redirect).
#[utoipa::path(
    get,
    path = "/oauth/callback",
    tag = "oauth",
    params(Callback),
    responses(
        (status = 200, description = "A page saying the connection is authorized", content_type = "text/html", body = String),
        (status = 303, description = "To the configured page, with `connection` and `status=authorized`, or `error`"),
        (status = 400, description = "The provider refused, or the request is not a callback", content_type = "text/html", body = String),
        (status = 404, description = "The state is unknown, used or expired", content_type = "text/html", body = String),
        (status = 502, description = "The token exchange failed", content_type = "text/html", body = String),
    )
)]
async fn callback(
    State(state): State<AppState>,
    Query(callback): Query<Callback>,
    RawQuery(query): RawQuery,
) -> Response {
    let done = state.settings.oauth_done_url.clone();
    let redirect = |pairs: &[(&str, &str)]| {
        done.as_ref().map(|url| {
            let mut url = url.clone();
            url.query_pairs_mut().extend_pairs(pairs);
            Redirect::to(url.as_str()).into_response()
        })
    };
    if let Some(error) = &callback.error {
        let description = callback.error_description.as_deref().unwrap_or("");
        tracing::warn!(error, description, "the provider refused an authorization");
        return redirect(&[("error", error), ("error_description", description)]).unwrap_or_else(|| {
            page(
                StatusCode::BAD_REQUEST,
                "Authorization refused",
                &format!("The provider refused the authorization: {error}. {description}"),
            )
        });
    }
    let (Some(_), Some(_)) = (&callback.state, &callback.code) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Not an authorization callback",
            "This address is where providers send users back after an authorization; it needs `state` and `code`.",
        );
    };
    // Every parameter, as sent: a plugin may check the callback's own
    // signature over them (Shopify's `hmac`) before the code is exchanged.
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    match state.host.complete_callback(&params).await {
        Ok(info) => redirect(&[("connection", &info.id), ("status", "authorized")]).unwrap_or_else(|| {
            page(
                StatusCode::OK,
                "Connection authorized",
                &format!(
                    "The connection {} ({}) is authorized. You can close this page.",
                    info.id, info.provider
                ),
            )
        }),
        Err(error) => {
            let problem = Problem::from(error);
            tracing::warn!(
                kind = problem.kind,
                detail = problem.detail,
                "an authorization did not complete"
            );
            redirect(&[("error", &problem.kind), ("error_description", &problem.detail)]).unwrap_or_else(|| {
                page(
                    StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_GATEWAY),
                    "Authorization failed",
                    &problem.detail,
                )
            })
        }
    }
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(callback))
}
