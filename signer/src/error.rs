//! The one error type of the HTTP handlers.
//!
//! Client mistakes get their status and a message a person can act on; internal failures get a
//! generic message, and their cause goes to the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub enum Error {
    /// The request is wrong; the message says how.
    BadRequest(String),
    /// The request is well-formed but not allowed (forged, expired, outside the prefix).
    Forbidden(String),
    /// Something the request names does not exist.
    NotFound(String),
    PayloadTooLarge(String),
    /// The request comes too early: what it needs is not there yet.
    Conflict(String),
    /// S3 failed while the request was being carried out; the message says what state things
    /// were left in.
    StoreFailed(String),
    /// Our fault or S3's; the message is logged, not shown.
    Internal(anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::StoreFailed(_) => StatusCode::BAD_GATEWAY,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told.
    pub fn message(&self) -> String {
        match self {
            Error::BadRequest(message)
            | Error::Forbidden(message)
            | Error::NotFound(message)
            | Error::PayloadTooLarge(message)
            | Error::Conflict(message)
            | Error::StoreFailed(message) => message.clone(),
            Error::Internal(_) => "internal error; the server log has the details".to_owned(),
        }
    }
}

impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Self {
        Error::Internal(error)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        } else {
            tracing::info!(status = self.status().as_u16(), reason = self.message(), "request refused");
        }
        (self.status(), Json(json!({ "error": self.message() }))).into_response()
    }
}
