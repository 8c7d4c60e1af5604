//! HTTP handlers. Each parses, calls into the pure modules and the storage shell, and answers.

pub mod finalize;
pub mod multipart;
mod result_page;
pub mod sign;

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::Error;

/// `Json` whose rejections come back in the service's own error format.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(match rejection.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    Error::PayloadTooLarge("the request body is too large".into())
                }
                _ => Error::BadRequest(rejection.body_text()),
            }),
        }
    }
}
