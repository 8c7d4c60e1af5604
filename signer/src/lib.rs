//! s3file's signer: issues S3 POST policies for direct browser uploads and finalizes the
//! uploaded objects with a server-side copy. See ARCHITECTURE.md for the map.
//!
//! Features: `server` (default) is the service around the sans-IO core; `dev-store` adds the
//! embedded S3-compatible store behind `--dev`, for the demo and the tests.

// The sans-IO core: no HTTP, no S3 client, no runtime; always built (the fuzz targets build
// only this).
pub mod accept;
pub mod cloudfront;
pub mod config_file;
pub mod field_rules;
pub mod folder_token;
pub mod forward_signature;
pub mod gzip;
pub mod keys;
pub mod metrics;
pub mod multipart_ticket;
pub mod object_parameters;
pub mod part_plan;
pub mod post_policy;
pub mod sigv4;
pub mod submission;
pub mod upload_checksum;
pub mod whole_checksum;

// The service around it (the `server` feature, on by default).
#[cfg(feature = "server")]
pub mod app;
#[cfg(feature = "server")]
pub mod cloudfront_signer;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod credentials;
#[cfg(feature = "server")]
pub mod deploy;
#[cfg(feature = "dev-store")]
pub mod dev_store;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod finalize;
#[cfg(feature = "server")]
pub mod forwarding;
#[cfg(feature = "server")]
pub mod integration;
#[cfg(feature = "server")]
pub mod proxy;
#[cfg(feature = "server")]
pub mod routes;
#[cfg(feature = "server")]
pub mod s3_url;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod state;
#[cfg(feature = "server")]
pub mod storage;
#[cfg(feature = "server")]
pub mod sweep;
#[cfg(feature = "server")]
pub mod transport;
#[cfg(feature = "server")]
pub mod upstream;

#[cfg(feature = "server")]
pub use app::app;
#[cfg(feature = "server")]
pub use state::AppState;

#[cfg(feature = "server")]
/// Binds the configured address and serves, within the connection limits of `server`, until
/// Ctrl-C or SIGTERM.
pub async fn serve(settings: config::Settings) -> anyhow::Result<()> {
    use anyhow::Context;
    // Settings first: a missing bucket says so, not that the port is taken.
    let config = config::Config::load(&settings)?;
    let limits = config.limits;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listen on {} (S3FILE_LISTEN)", config.listen))?;
    let local_addr = listener.local_addr()?;
    let state = AppState::from_config(config, local_addr, None).await?;
    tracing::info!("listening on http://{local_addr}");
    server::serve_on(listener, app(state), limits, shutdown_signal()).await;
    Ok(())
}

#[cfg(feature = "server")]
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
