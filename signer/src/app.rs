//! The HTTP surface: `fn app(state) -> Router`, so tests can drive it without a socket.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::routes::{finalize, sign};
use crate::state::AppState;

/// Sign requests are small JSON documents; this bounds what a client can make the server parse.
pub const SIGN_BODY_LIMIT: usize = 256 * 1024;

pub fn app(state: AppState) -> Router {
    // Finalize takes plain forms, and whole files when the browser has no JavaScript.
    let finalize_limit =
        usize::try_from(state.settings.max_file_size).unwrap_or(usize::MAX).saturating_add(1024 * 1024);
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/s3file/sign", post(sign::sign).layer(DefaultBodyLimit::max(SIGN_BODY_LIMIT)))
        .route("/s3file/finalize", post(finalize::finalize).layer(DefaultBodyLimit::max(finalize_limit)))
        .with_state(state.clone());
    if let Some(store) = &state.dev_store {
        router = router.nest("/s3", store.router().layer(DefaultBodyLimit::disable()));
    }
    if let Some(www) = &state.settings.www {
        router = router.fallback_service(ServeDir::new(www));
    }
    router.layer(TraceLayer::new_for_http())
}
