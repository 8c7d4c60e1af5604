//! Using s3file inside a Rust (tower/axum) application.
//!
//! [`S3FileLayer`] sits in front of the application's handlers. A form POST that carries
//! s3file's fields (or files, from a browser without JavaScript) is verified and finalized before
//! the handler runs: the handler receives the stored files through the [`Uploads`] extractor and
//! the form's other fields as an `application/x-www-form-urlencoded` body, ready for axum's
//! `Form`. A forged or expired submission is answered by the layer with a 4xx; the handler never
//! sees it. Other requests pass through untouched.
//!
//! ```no_run
//! # async fn example(state: s3file_signer::AppState) {
//! use axum::{routing::post, Form, Router};
//! use s3file_signer::integration::{S3FileLayer, Uploads};
//!
//! #[derive(serde::Deserialize)]
//! struct Profile { name: String }
//!
//! async fn save(uploads: Uploads, Form(profile): Form<Profile>) -> String {
//!     let avatar = &uploads.files("avatar")[0];
//!     format!("{} uploaded {} ({} bytes)", profile.name, avatar.key, avatar.size)
//! }
//!
//! let app: Router = Router::new().route("/profile", post(save)).layer(S3FileLayer::new(state));
//! # }
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};

use crate::routes::finalize::{finalize_request, is_form, Finalized, StoredFile};
use crate::state::AppState;

/// The files a form carried, by field name, as stored at their final keys.
#[derive(Debug, Clone, Default)]
pub struct Uploads(pub BTreeMap<String, Vec<StoredFile>>);

impl Uploads {
    /// The files of one field, in the order the browser sent them; empty if it had none.
    pub fn files(&self, field: &str) -> &[StoredFile] {
        self.0.get(field).map(Vec::as_slice).unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Uploads {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts.extensions.get::<Uploads>().cloned().unwrap_or_default())
    }
}

/// Finalizes s3file submissions before the wrapped service sees them.
#[derive(Clone)]
pub struct S3FileLayer {
    state: AppState,
}

impl S3FileLayer {
    pub fn new(state: AppState) -> Self {
        S3FileLayer { state }
    }
}

impl<S> tower::Layer<S> for S3FileLayer {
    type Service = S3FileService<S>;

    fn layer(&self, inner: S) -> S3FileService<S> {
        S3FileService { inner, state: self.state.clone() }
    }
}

#[derive(Clone)]
pub struct S3FileService<S> {
    inner: S,
    state: AppState,
}

impl<S> tower::Service<Request> for S3FileService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The clone is not ready; the ready service is the one taken for this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        Box::pin(async move {
            if request.method() != Method::POST || !is_form(request.headers()) {
                return inner.call(request).await;
            }
            match finalize_into_request(&state, request).await {
                Ok(request) => inner.call(request).await,
                Err(error) => Ok(error.into_response()),
            }
        })
    }
}

/// The request the application sees: the form's other fields, URL-encoded, and the stored files
/// in its extensions.
async fn finalize_into_request(state: &AppState, request: Request) -> crate::error::Result<Request> {
    let (head, body) = request.into_parts();
    let Finalized { passthrough, files, .. } =
        finalize_request(state, Request::from_parts(head.clone(), body)).await?;
    let body = serde_urlencoded::to_string(&passthrough).map_err(anyhow::Error::from)?;
    let mut request = Request::from_parts(head, Body::from(body.clone()));
    let headers = request.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    request.extensions_mut().insert(Uploads(files));
    Ok(request)
}
