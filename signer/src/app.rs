//! The HTTP surface: `fn app(state) -> Router`, so tests can drive it without a socket.

use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::metrics::{Histogram, Rejection};
use crate::routes::{finalize, multipart, sign};
use crate::state::AppState;

/// Sign requests are small JSON documents; this bounds what a client can make the server parse.
pub const SIGN_BODY_LIMIT: usize = 256 * 1024;

pub fn app(state: AppState) -> Router {
    // Finalize takes plain forms, and whole files when the browser has no JavaScript.
    let finalize_limit = usize::try_from(state.config.rules.default_rule().max_size())
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route(
            "/s3file/sign",
            post(sign::sign)
                .layer(DefaultBodyLimit::max(SIGN_BODY_LIMIT))
                .layer(middleware::from_fn_with_state(state.clone(), measure_sign)),
        )
        .route("/s3file/parts", post(multipart::parts).layer(DefaultBodyLimit::max(SIGN_BODY_LIMIT)))
        .route("/s3file/complete", post(multipart::complete).layer(DefaultBodyLimit::max(SIGN_BODY_LIMIT)))
        .route("/s3file/abort", post(multipart::abort).layer(DefaultBodyLimit::max(SIGN_BODY_LIMIT)))
        .route(
            "/s3file/finalize",
            post(finalize::finalize)
                .layer(DefaultBodyLimit::max(finalize_limit))
                .layer(middleware::from_fn_with_state(state.clone(), measure_finalize)),
        )
        .with_state(state.clone());
    #[cfg(feature = "dev-store")]
    if let Some(store) = state.dev_store() {
        router = router.nest("/s3", store.router().layer(DefaultBodyLimit::disable()));
    }
    if let crate::config::Front::Www(www) = &state.config.front {
        router = router.fallback_service(ServeDir::new(www));
    }
    if state.upstream.is_some() {
        // No body limit: large bodies stream through to the application.
        let forward = axum::routing::any(crate::proxy::forward).layer(DefaultBodyLimit::disable());
        router = router.fallback_service(forward.with_state(state.clone()));
    }
    // Outermost first: every request gets an id, its log span carries it, and the response
    // echoes it so a user's report can be matched to the log.
    router
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request.headers().get("x-request-id").and_then(|id| id.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId))
}

/// 64 random bits in hex: unique enough to find one request in a day of logs.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = hex::encode(rand::random::<[u8; 8]>());
        Some(RequestId::new(HeaderValue::from_str(&id).expect("hex is a valid header value")))
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

async fn measure_sign(State(state): State<AppState>, request: Request, next: Next) -> Response {
    measure(&state, &state.metrics.sign_latency, request, next).await
}

async fn measure_finalize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    measure(&state, &state.metrics.finalize_latency, request, next).await
}

async fn measure(state: &AppState, latency: &Histogram, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    latency.observe(started.elapsed());
    let rejection = match response.status() {
        status if status.is_success() => None,
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => Some(Rejection::Forbidden),
        StatusCode::NOT_FOUND => Some(Rejection::NotFound),
        StatusCode::PAYLOAD_TOO_LARGE => Some(Rejection::TooLarge),
        status if status.is_client_error() => Some(Rejection::BadRequest),
        _ => Some(Rejection::Internal),
    };
    if let Some(rejection) = rejection {
        state.metrics.reject(rejection);
    }
    response
}
