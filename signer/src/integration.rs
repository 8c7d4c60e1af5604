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
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};

use crate::field_rules::FieldRules;
use crate::finalize::{finalize_request, is_form, Finalized, StoredFile};
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
    rules: Arc<FieldRules>,
}

impl S3FileLayer {
    /// Finalizes with the signer's upload rules (`S3FILE_ACCEPT`, `S3FILE_FIELDS`).
    pub fn new(state: AppState) -> Self {
        let rules = Arc::new(state.config.rules.clone());
        S3FileLayer { state, rules }
    }

    /// Finalizes with the application's own rules: what each field may hold, checked against
    /// the stored objects (and the files of the no-JavaScript fallback) before anything moves.
    ///
    /// ```no_run
    /// # fn example(state: s3file_signer::AppState) -> Result<(), String> {
    /// use s3file_signer::field_rules::{FieldRules, Rule};
    /// use s3file_signer::integration::S3FileLayer;
    ///
    /// let avatar = Rule::new(1024 * 1024).accepting("image/png,image/jpeg")?;
    /// let rules = FieldRules::new(Rule::new(10 * 1024 * 1024)).with_field("avatar", avatar);
    /// let layer = S3FileLayer::new(state).with_rules(rules);
    /// # Ok(()) }
    /// ```
    pub fn with_rules(mut self, rules: FieldRules) -> Self {
        self.rules = Arc::new(rules);
        self
    }
}

impl<S> tower::Layer<S> for S3FileLayer {
    type Service = S3FileService<S>;

    fn layer(&self, inner: S) -> S3FileService<S> {
        S3FileService { inner, state: self.state.clone(), rules: self.rules.clone() }
    }
}

#[derive(Clone)]
pub struct S3FileService<S> {
    inner: S,
    state: AppState,
    rules: Arc<FieldRules>,
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
        let rules = self.rules.clone();
        Box::pin(async move {
            if let Some(name) = crate::submission::signer_header(request.headers().keys()) {
                let message = format!("`{name}` is a header the signer writes and cannot be sent");
                return Ok(crate::error::Error::BadRequest(message).into_response());
            }
            if request.method() != Method::POST || !is_form(request.headers()) {
                return inner.call(request).await;
            }
            match finalize_into_request(&state, &rules, request).await {
                Ok(request) => inner.call(request).await,
                Err(error) => Ok(error.into_response()),
            }
        })
    }
}

/// The request the application sees: the form's other fields, URL-encoded, and the stored files
/// in its extensions.
async fn finalize_into_request(
    state: &AppState,
    rules: &FieldRules,
    request: Request,
) -> crate::error::Result<Request> {
    let (head, body) = request.into_parts();
    let Finalized { passthrough, files, .. } =
        finalize_request(state, rules, Request::from_parts(head.clone(), body)).await?;
    let body = serde_urlencoded::to_string(&passthrough).map_err(anyhow::Error::from)?;
    let mut request = Request::from_parts(head, Body::from(body.clone()));
    let headers = request.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    request.extensions_mut().insert(Uploads(files));
    Ok(request)
}
