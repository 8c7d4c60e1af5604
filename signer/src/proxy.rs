//! Proxy mode (`--upstream URL`): the signer in front of an application in any language.
//!
//! Form submissions that carry s3file's fields are verified and finalized here, then forwarded
//! to the application as `application/x-www-form-urlencoded` with the final keys and a
//! [`forward_signature`](crate::forward_signature) header. Everything else, including large
//! bodies, streams through untouched. The application never handles file bytes and never trusts
//! a key it did not get through the signer.
//!
//! What the application may rely on besides the signature:
//! - No `X-S3File-*` header comes from a client: a request carrying one is refused with 400,
//!   so whatever such header reaches the application, the signer wrote.
//! - `X-Forwarded-For`, `-Host` and `-Proto` are the signer's own
//!   ([`forwarding_headers`](crate::forwarding::forwarding_headers)),
//!   unless the peer is a proxy named in `S3FILE_TRUSTED_PROXIES`.
//! - An application that does not accept a connection or goes silent gets the request a 504
//!   (502 when it cannot be reached at all), instead of holding the browser's connection open
//!   for good (see [`crate::upstream`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequest, Multipart, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use serde_json::json;
use tokio::time::Instant;

use crate::config::Front;
use crate::error::{Error, Result};
use crate::finalize::{finalize_request, is_form, Finalized};
use crate::forward_signature;
use crate::forwarding::replace_forwarding_headers;
use crate::state::AppState;
use crate::upstream::Upstream;

/// Bodies up to this size are read to look for s3file's fields; an s3file submission is keys
/// and form fields, far smaller. Larger bodies stream through without a look.
const INSPECT_LIMIT: usize = 1024 * 1024;

/// Headers that describe one connection, not the message (RFC 9110, 7.6.1).
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "proxy-connection" | "te" | "trailer" | "transfer-encoding" | "upgrade"
    )
}

/// The first header of the signer's own, [`forward_signature::HEADER_PREFIX`], that a client
/// sent. Stripping them would do for the signature, but a client that sends one is forging or
/// broken, and only refusing keeps every such name, those of later versions included, the
/// signer's alone.
fn signer_header(headers: &HeaderMap) -> Option<&HeaderName> {
    // http's names are lower case, whatever case the client wrote.
    headers.keys().find(|name| name.as_str().starts_with(forward_signature::HEADER_PREFIX))
}

pub async fn forward(State(state): State<AppState>, request: Request) -> Response {
    match forward_request(&state, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn forward_request(state: &AppState, request: Request) -> Result<Response> {
    let upstream = state.upstream.as_ref().expect("the proxy route exists only with an upstream");
    let (mut head, body) = request.into_parts();
    if let Some(name) = signer_header(&head.headers) {
        return Err(Error::BadRequest(format!(
            "the request carries {name}: X-S3File-* headers are written by the signer only; send the request without them"
        )));
    }
    let peer = head.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip());
    let trusted = match &state.config.front {
        Front::Upstream { trusted, .. } => trusted.0.as_slice(),
        _ => &[],
    };
    replace_forwarding_headers(&mut head.headers, peer, trusted);
    let target = target(upstream, &head)?;
    if head.method != Method::POST || !is_form(&head.headers) {
        return send(upstream, &head, target, Outgoing::Streamed(body.into_data_stream().boxed())).await;
    }
    let mut stream = body.into_data_stream();
    let mut prefix = Vec::new();
    while prefix.len() <= INSPECT_LIMIT {
        match stream.next().await {
            Some(chunk) => prefix
                .extend_from_slice(&chunk.map_err(|e| Error::BadRequest(format!("reading the body: {e}")))?),
            None => return forward_form(state, upstream, head, target, Bytes::from(prefix)).await,
        }
    }
    let rest =
        futures_util::stream::once(async move { Ok::<_, axum::Error>(Bytes::from(prefix)) }).chain(stream);
    send(upstream, &head, target, Outgoing::Streamed(rest.boxed())).await
}

/// Where the request goes: its path and query under the application's base URL.
fn target(upstream: &Upstream, head: &Parts) -> Result<reqwest::Url> {
    let path_and_query = head.uri.path_and_query().map_or("/", |p| p.as_str());
    reqwest::Url::parse(&format!("{}{path_and_query}", upstream.base))
        .map_err(|error| Error::BadRequest(format!("this path cannot be forwarded: {error}")))
}

async fn forward_form(
    state: &AppState,
    upstream: &Upstream,
    head: Parts,
    target: reqwest::Url,
    body: Bytes,
) -> Result<Response> {
    if !carries_s3file_fields(&head, &body).await {
        return send(upstream, &head, target, Outgoing::Buffered(body)).await;
    }
    let Finalized { passthrough, files, .. } =
        finalize_request(state, &state.config.rules, Request::from_parts(head.clone(), Body::from(body)))
            .await?;
    let mut fields = passthrough;
    for (field, stored) in &files {
        for file in stored {
            fields.push((field.clone(), file.key.clone()));
            fields
                .push((format!("{field}-s3file"), serde_json::to_string(file).map_err(anyhow::Error::from)?));
        }
    }
    let body = serde_urlencoded::to_string(&fields).map_err(anyhow::Error::from)?;
    // The path and query as the application receives them: the URL parser may have normalized
    // what the client sent, and the application checks what it got.
    let signed_path = match target.query() {
        Some(query) => format!("{}?{query}", target.path()),
        None => target.path().to_owned(),
    };
    // `Config::from_settings` gives proxy mode no config without a secret.
    let secret = state.config.secrets.current.as_deref().unwrap_or_default().as_bytes();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signature = forward_signature::sign(secret, now, head.method.as_str(), &signed_path, body.as_bytes());
    let mut head = head;
    head.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    head.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    head.headers.insert(
        HeaderName::from_static(forward_signature::HEADER),
        HeaderValue::from_str(&signature).expect("the signature header is ASCII"),
    );
    head.headers.insert(
        HeaderName::from_static(forward_signature::CONTENT_SHA256_HEADER),
        HeaderValue::from_str(&forward_signature::content_sha256(body.as_bytes())).expect("hex is ASCII"),
    );
    send(upstream, &head, target, Outgoing::Buffered(Bytes::from(body))).await
}

/// Whether a buffered form names any s3file field.
async fn carries_s3file_fields(head: &Parts, body: &Bytes) -> bool {
    let content_type =
        head.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_urlencoded_names(body).any(|name| name == "s3file");
    }
    let request = Request::from_parts(head.clone(), Body::from(body.clone()));
    let Ok(mut multipart) = Multipart::from_request(request, &()).await else { return false };
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("s3file") {
            return true;
        }
    }
    false
}

fn form_urlencoded_names(body: &[u8]) -> impl Iterator<Item = String> + '_ {
    body.split(|b| *b == b'&').filter_map(|pair| {
        let name = pair.split(|b| *b == b'=').next()?;
        let name: String = String::from_utf8_lossy(name).replace('+', " ");
        Some(percent_encoding::percent_decode_str(&name).decode_utf8_lossy().into_owned())
    })
}

/// A request body on its way to the application.
enum Outgoing {
    /// Read whole: sent at once.
    Buffered(Bytes),
    /// Passed on as the client sends it.
    Streamed(BoxStream<'static, Result<Bytes, axum::Error>>),
}

/// When the exchange with the application last moved, and whether the client's body failed.
#[derive(Clone)]
struct Progress(Arc<ProgressState>);

struct ProgressState {
    last: Mutex<Instant>,
    client_body_failed: AtomicBool,
}

impl Progress {
    fn start() -> Progress {
        Progress(Arc::new(ProgressState {
            last: Mutex::new(Instant::now()),
            client_body_failed: AtomicBool::new(false),
        }))
    }

    fn moved(&self) {
        *self.0.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
    }

    fn last(&self) -> Instant {
        *self.0.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn client_body_failed(&self) -> bool {
        self.0.client_body_failed.load(Ordering::Relaxed)
    }
}

async fn send(upstream: &Upstream, head: &Parts, target: reqwest::Url, body: Outgoing) -> Result<Response> {
    let progress = Progress::start();
    let body = match body {
        Outgoing::Buffered(bytes) => reqwest::Body::from(bytes),
        Outgoing::Streamed(stream) => {
            let progress = progress.clone();
            // Each chunk the connection takes is progress; a failed one is the client's.
            reqwest::Body::wrap_stream(stream.inspect(move |chunk| {
                progress.moved();
                if chunk.is_err() {
                    progress.0.client_body_failed.store(true, Ordering::Relaxed);
                }
            }))
        }
    };
    let mut request = upstream.client.request(head.method.clone(), target);
    for (name, value) in &head.headers {
        // Content-Length stays: a streamed body keeps its length, and a rewritten one has it set.
        if !is_hop_by_hop(name) && name != header::HOST {
            request = request.header(name, value);
        }
    }
    let pending = request.body(body).send();
    tokio::pin!(pending);
    let idle = upstream.idle_timeout;
    let response = loop {
        tokio::select! {
            sent = &mut pending => break sent,
            () = tokio::time::sleep_until(progress.last() + idle) => {
                if progress.last() + idle <= Instant::now() {
                    return Ok(upstream_failed(
                        upstream,
                        StatusCode::GATEWAY_TIMEOUT,
                        &format!("the application behind the signer did not answer within {} s", idle.as_secs()),
                        &"the exchange stood still",
                    ));
                }
            }
        }
    };
    let response = match response {
        Ok(response) => response,
        Err(error) if progress.client_body_failed() => {
            // The error names the application's URL, which is for the log only.
            tracing::info!(error = %error, "the request's body broke off while it was forwarded");
            return Err(Error::BadRequest("the request's body broke off".to_owned()));
        }
        Err(error) => {
            let (status, message) = if error.is_timeout() {
                (
                    StatusCode::GATEWAY_TIMEOUT,
                    "the application behind the signer did not answer: it accepted no connection in time",
                )
            } else if error.is_connect() {
                (StatusCode::BAD_GATEWAY, "the application behind the signer is unreachable")
            } else {
                (StatusCode::BAD_GATEWAY, "the application behind the signer failed to answer")
            };
            return Ok(upstream_failed(upstream, status, message, &error));
        }
    };
    let mut headers = HeaderMap::new();
    for (name, value) in response.headers() {
        if !is_hop_by_hop(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    let status = response.status();
    let body = Body::from_stream(idle_limited(response.bytes_stream(), idle));
    Ok((status, headers, body).into_response())
}

/// The application's response body, cut when it sends nothing for `idle`. The status is out
/// by then, so the browser sees the response break off, as it would if the application had
/// dropped the connection.
fn idle_limited(
    stream: impl futures_util::Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    idle: Duration,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold(Some(stream.boxed()), move |stream| async move {
        let mut stream = stream?;
        match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(stream))),
            Ok(Some(Err(error))) => Some((Err(std::io::Error::other(error)), None)),
            Ok(None) => None,
            Err(_) => {
                tracing::warn!(idle_seconds = idle.as_secs(), "the application stopped sending its response");
                let error = std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the application stopped sending its response",
                );
                Some((Err(error), None))
            }
        }
    })
}

/// The answer when the application cannot be reached or does not answer: the client learns
/// that, not where the application runs; the log has the address and the cause.
fn upstream_failed(
    upstream: &Upstream,
    status: StatusCode,
    message: &str,
    cause: &dyn std::fmt::Display,
) -> Response {
    tracing::warn!(status = status.as_u16(), upstream = %upstream.base, cause = %cause, "{message}");
    (status, Json(json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forwarding::tests::headers;

    #[test]
    fn finds_any_header_of_the_signers_own() {
        assert_eq!(signer_header(&headers(&[("accept", "*/*"), ("x-s3filesignature", "1")])), None);
        for name in ["x-s3file-signature", "X-S3File-Content-SHA256", "X-S3FILE-NEXT", "x-s3file-"] {
            let sent = headers(&[("accept", "*/*"), (name, "1")]);
            assert_eq!(
                signer_header(&sent).map(HeaderName::as_str),
                Some(name.to_ascii_lowercase().as_str())
            );
        }
    }

    #[test]
    fn reads_urlencoded_field_names() {
        let names: Vec<String> = form_urlencoded_names(b"a=1&s3%66ile=x&b+c=2&&d").collect();
        assert_eq!(names, ["a", "s3file", "b c", "", "d"]);
    }
}
