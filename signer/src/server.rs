//! The accept loop of `serve`, which bounds what one client can hold of the signer.
//!
//! - A connection has `S3FILE_HEADER_TIMEOUT` to send a complete request head, and an idle
//!   keep-alive connection as long to start its next one; then it is closed. A client that
//!   trickles or stalls before its request is even known holds nothing for long.
//! - A request body that sends nothing for `S3FILE_BODY_TIMEOUT`, while a handler reads it,
//!   fails the request. There is deliberately no deadline on a whole request: finalize's copy of
//!   a large object and a form streamed through proxy mode legitimately take minutes, as long as
//!   bytes keep moving, and a fixed deadline would cut exactly those.
//! - At most `S3FILE_MAX_CONNECTIONS` connections are served at once. The next one is not
//!   accepted until a served one ends: it waits in the kernel's listen queue, costing the signer
//!   nothing, and is served (a `/healthz` probe included) as soon as a slot frees, which the
//!   header timeout bounds when the connections holding the slots send nothing useful. Refusing
//!   it instead would turn a flood into failed probes and restarts.
//!
//! - A connection is closed the way nginx's `lingering_close` does it: after the last answer the
//!   signer's side is shut down and what the client still sends is read and dropped until it
//!   closes too, goes quiet for [`LINGER_IDLE`] or [`LINGER_MAX`] passed. A client still
//!   sending a body the signer refused (413) then reads that answer, instead of meeting a
//!   reset connection while it writes.
//!
//! axum::serve has none of these, so this is hyper's HTTP/1 connection under a small loop of
//! its own, with the same graceful shutdown.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::Service as _;
use tower_http::timeout::TimeoutBody;

pub use crate::config::Limits;

/// A closing connection is drained until the client has sent nothing for this long.
pub const LINGER_IDLE: Duration = Duration::from_secs(2);
/// A closing connection is drained for this long at most.
pub const LINGER_MAX: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then stops accepting
/// and waits for the connections in progress to finish their requests. Every request carries
/// its peer's address as axum's `ConnectInfo<SocketAddr>`.
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closing_watch) = watch::channel(());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        // The slot first: without one, the next connection stays in the listen queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses are written whole; waiting to coalesce them only adds latency.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let body_timeout = limits.body_timeout;
        let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
            let mut request = request.map(|body| TimeoutBody::new(body_timeout, body));
            request.extensions_mut().insert(ConnectInfo(peer));
            // A Router is always ready, so it is called without poll_ready. Boxed: a connection
            // that hands its socket back (for `linger`) needs a future it can move.
            Box::pin(router.clone().call(request))
        });
        let mut connection = http.serve_connection(TokioIo::new(stream), service);
        let mut closing = closing_watch.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let shutdown_asked = closing.changed();
            tokio::pin!(shutdown_asked);
            let mut finishing = false;
            let ended = poll_fn(|cx| {
                if !finishing && shutdown_asked.as_mut().poll(cx).is_ready() {
                    // Finish the request in progress, take no further one.
                    finishing = true;
                    Pin::new(&mut connection).graceful_shutdown();
                }
                connection.poll_without_shutdown(cx)
            })
            .await;
            match ended {
                Ok(()) => linger(connection.into_parts().io.into_inner()).await,
                Err(error) => tracing::debug!(%peer, "connection ended: {error}"),
            }
        });
    }
    // Connections still queued are refused from here on.
    drop(listener);
    drop(closing_watch);
    let _ = closing.send(());
    // Each connection holds a receiver until it ends.
    closing.closed().await;
}

/// Closes a connection whose exchange is over (see the module's documentation): the signer's
/// side first, then the client's bytes are read and dropped until it closes too, goes quiet
/// for [`LINGER_IDLE`] or [`LINGER_MAX`] passed.
async fn linger(mut stream: TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let deadline = tokio::time::Instant::now() + LINGER_MAX;
    let mut dropped = [0; 16 * 1024];
    loop {
        let quiet = (tokio::time::Instant::now() + LINGER_IDLE).min(deadline);
        match tokio::time::timeout_at(quiet, stream.read(&mut dropped)).await {
            Ok(Ok(read)) if read > 0 => continue,
            _ => return,
        }
    }
}

/// Errors of one connection that never got accepted are the client's business; any other
/// (out of file descriptors, say) would repeat at once, so the loop pauses before trying again.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(error.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!("cannot accept a connection: {error}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::net::SocketAddr;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LIMITS: Limits = Limits {
        max_connections: 4,
        header_timeout: Duration::from_secs(10),
        body_timeout: Duration::from_secs(10),
    };

    async fn get_text(addr: SocketAddr, path: &str) -> (tokio::net::TcpStream, String) {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: signer\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        (stream, answer)
    }

    #[tokio::test]
    async fn requests_carry_the_peer_address() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        tokio::spawn(serve_on(listener, router, LIMITS, std::future::pending()));
        let (stream, answer) = get_text(addr, "/peer").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(&stream.local_addr().unwrap().to_string()), "{answer}");
    }

    #[tokio::test]
    async fn shutdown_finishes_the_request_in_progress() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (started, started_rx) = tokio::sync::oneshot::channel::<()>();
        let started = Arc::new(std::sync::Mutex::new(Some(started)));
        let router = Router::new().route(
            "/slow",
            get(move || {
                let started = started.lock().unwrap().take();
                async move {
                    let _ = started.map(|started| started.send(()));
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "done"
                }
            }),
        );
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_on(listener, router, LIMITS, async {
            let _ = stop_rx.await;
        }));
        let client = tokio::spawn(get_text(addr, "/slow"));
        started_rx.await.unwrap();
        stop.send(()).unwrap();
        let (_, answer) = client.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"), "{answer}");
        tokio::time::timeout(Duration::from_secs(5), server).await.expect("the server stopped").unwrap();
        assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still accepting after shutdown");
    }

    /// A client still sending a body the signer refused is not cut off under its feet: the
    /// answer is sent, the connection closed for writing and the rest of the body drained for a
    /// moment, so the client's writes go on succeeding until it reads the refusal. Clients that
    /// give up reading when a write fails (Node's `http`, browsers' XHR in some cases) would
    /// otherwise report a broken connection instead of the 413.
    #[tokio::test]
    async fn a_refused_body_is_drained_while_the_client_sends_it() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/small",
            axum::routing::post(|_: axum::body::Bytes| async { "read" })
                .layer(axum::extract::DefaultBodyLimit::max(1024)),
        );
        tokio::spawn(serve_on(listener, router, LIMITS, std::future::pending()));
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let head = "POST /small HTTP/1.1\r\nHost: signer\r\nContent-Length: 67108864\r\n\r\n";
        writer.write_all(head.as_bytes()).await.unwrap();
        // 8 MiB, far past the limit and past what socket buffers hold, a chunk at a time.
        let chunk = vec![b'a'; 64 * 1024];
        for sent in 0..128 {
            let written = writer.write_all(&chunk).await;
            assert!(written.is_ok(), "write {sent} failed: {written:?}");
        }
        let mut answer = Vec::new();
        let _ = reader.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    }
}
