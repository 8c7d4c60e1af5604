//! `POST /s3file/finalize`: the form's uploads moved to their final keys (see
//! [`crate::finalize`]), answered as JSON or as a result page.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;

use super::result_page;
use crate::error::Result;
use crate::finalize::finalize_request;
use crate::state::AppState;

pub async fn finalize(State(state): State<AppState>, request: Request) -> Result<Response> {
    let wants_json = accepts_json(request.headers());
    let finalized = finalize_request(&state, &state.config.rules, request).await?;
    if wants_json {
        return Ok(Json(finalized).into_response());
    }
    Ok(Html(result_page::render(&finalized)).into_response())
}

fn accepts_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}
