//! s3file's signer: issues S3 POST policies for direct browser uploads and finalizes the
//! uploaded objects with a server-side copy. See ARCHITECTURE.md for the map.

pub mod accept;
pub mod app;
pub mod config;
pub mod config_file;
pub mod credentials;
pub mod deploy;
#[cfg(feature = "dev-store")]
pub mod dev_store;
pub mod error;
pub mod field_rules;
pub mod finalize;
pub mod folder_token;
pub mod forward_signature;
pub mod forwarding;
pub mod integration;
pub mod keys;
pub mod metrics;
pub mod multipart_ticket;
pub mod object_parameters;
pub mod part_plan;
pub mod post_policy;
pub mod proxy;
pub mod routes;
pub mod s3_url;
pub mod server;
pub mod sigv4;
pub mod state;
pub mod storage;
pub mod submission;
pub mod sweep;
pub mod transport;
pub mod upstream;

pub use app::app;
pub use state::AppState;

/// Binds the configured address and serves, within the connection limits of `server`, until
/// Ctrl-C or SIGTERM.
pub async fn serve(settings: config::Settings) -> anyhow::Result<()> {
    use anyhow::Context;
    // Settings first: a missing bucket says so, not that the port is taken.
    let config = config::Config::from_settings(&settings)
        .map_err(|errors| anyhow::anyhow!("invalid settings:\n  {}", errors.join("\n  ")))?;
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
