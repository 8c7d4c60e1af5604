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
//! - `X-Forwarded-For`, `-Host` and `-Proto` are the signer's own ([`forwarding_headers`]),
//!   unless the peer is a proxy named in `S3FILE_TRUSTED_PROXIES`.
//! - An application that does not accept a connection within [`CONNECT_TIMEOUT`] or goes
//!   silent for [`IDLE_TIMEOUT`] gets the request a 504 (502 when it cannot be reached at all),
//!   instead of holding the browser's connection open for good.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
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

use crate::error::{Error, Result};
use crate::forward_signature;
use crate::routes::finalize::{finalize_request, is_form, Finalized};
use crate::state::AppState;

/// Bodies up to this size are read to look for s3file's fields; an s3file submission is keys
/// and form fields, far smaller. Larger bodies stream through without a look.
const INSPECT_LIMIT: usize = 1024 * 1024;

/// How long the application has to accept a connection. It runs next to the signer, where a
/// connection takes milliseconds; longer means it is down or overloaded.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the exchange with the application may stand still: no byte of the request taken,
/// no answer, no byte of the response. A deadline on the whole exchange would cut long uploads
/// streamed through and long downloads that keep moving; this only cuts what has stopped.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Upstream {
    pub base: String,
    pub client: reqwest::Client,
    /// [`IDLE_TIMEOUT`], shorter in tests.
    pub idle_timeout: Duration,
}

impl Upstream {
    pub fn new(base: &str) -> anyhow::Result<Upstream> {
        Upstream::with_timeouts(base, CONNECT_TIMEOUT, IDLE_TIMEOUT)
    }

    pub fn with_timeouts(base: &str, connect: Duration, idle: Duration) -> anyhow::Result<Upstream> {
        // Not reqwest's `read_timeout`: that one starts when the request is sent and keeps
        // running while its body streams, so it would cut a long upload that is still moving.
        // The idle timeout is kept here instead, around the exchange (`send`).
        let client = reqwest::Client::builder()
            // The browser, not the signer, follows the application's redirects.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect)
            .build()?;
        Ok(Upstream { base: base.trim_end_matches('/').to_owned(), client, idle_timeout: idle })
    }
}

/// Headers that describe one connection, not the message (RFC 9110, 7.6.1).
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "proxy-connection" | "te" | "trailer" | "transfer-encoding" | "upgrade"
    )
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// Every header that tells the application who the client is and how it came: the signer sets
/// these (or keeps a trusted proxy's), so a client's own never pass as they are.
const FORWARDING: [HeaderName; 5] =
    [X_FORWARDED_FOR, X_FORWARDED_HOST, X_FORWARDED_PROTO, header::FORWARDED, X_REAL_IP];

/// An IP address, or a CIDR range of them (`10.0.0.0/8`, `fd00::/8`): an entry of
/// `S3FILE_TRUSTED_PROXIES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u32,
}

impl IpRange {
    pub fn contains(&self, address: IpAddr) -> bool {
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                masked(u32::from(address).into(), 32, self.prefix) == u32::from(network).into()
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                masked(address.into(), 128, self.prefix) == u128::from(network)
            }
            _ => false,
        }
    }
}

/// `value`, `width` bits wide, with the bits past the first `prefix` cleared.
fn masked(value: u128, width: u32, prefix: u32) -> u128 {
    if prefix == 0 {
        0
    } else {
        value & (u128::MAX << (width - prefix))
    }
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(text: &str) -> Result<IpRange, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or a CIDR range such as 10.0.0.0/8"))?;
        let (bits, width) = match network {
            IpAddr::V4(address) => (u32::from(address).into(), 32),
            IpAddr::V6(address) => (u128::from(address), 128),
        };
        let prefix = match prefix {
            None => width,
            Some(prefix) => Some(prefix)
                .filter(|prefix| !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|prefix| prefix.parse::<u32>().ok())
                .filter(|prefix| *prefix <= width)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {width}"))?,
        };
        // 10.0.0.1/8 is more likely a typo than a way to say 10.0.0.0/8: refuse, do not guess.
        if masked(bits, width, prefix) != bits {
            return Err(format!("{text:?} has address bits set past its /{prefix} prefix"));
        }
        Ok(IpRange { network, prefix })
    }
}

/// `S3FILE_TRUSTED_PROXIES`: comma-separated [`IpRange`]s. Empty items are skipped, so an
/// empty setting (as templated deployments often pass) means none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpRange>);

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<TrustedProxies, String> {
        text.split(',')
            .filter(|item| !item.trim().is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

/// The forwarding headers ([`FORWARDING`]) the application gets, from those the client sent,
/// the TCP peer (absent when the router is served without `ConnectInfo`) and the trusted
/// proxies.
///
/// From a trusted proxy, its headers are kept and its address appended to `X-Forwarded-For`,
/// as it vouches for the client before it. From anyone else, nothing of theirs is kept:
/// `X-Forwarded-For` is the peer (omitted when unknown rather than made up), `X-Forwarded-Host`
/// the `Host` it asked for, and `X-Forwarded-Proto` `http`, what the signer serves.
pub fn forwarding_headers(incoming: &HeaderMap, peer: Option<IpAddr>, trusted: &[IpRange]) -> HeaderMap {
    let peer = peer.map(|peer| peer.to_canonical());
    let trusted_peer = peer.filter(|peer| trusted.iter().any(|range| range.contains(*peer)));
    let mut outgoing = HeaderMap::new();
    if trusted_peer.is_some() {
        for name in FORWARDING {
            for value in incoming.get_all(&name) {
                outgoing.append(name.clone(), value.clone());
            }
        }
    }
    if let Some(peer) = peer {
        // One list, the peer last: the hops in the order they were made.
        let mut chain: Vec<u8> = Vec::new();
        for value in outgoing.get_all(X_FORWARDED_FOR) {
            chain.extend_from_slice(value.as_bytes());
            chain.extend_from_slice(b", ");
        }
        chain.extend_from_slice(peer.to_string().as_bytes());
        let chain = HeaderValue::from_bytes(&chain).expect("header values joined by \", \" are one");
        outgoing.insert(X_FORWARDED_FOR, chain);
    }
    if !outgoing.contains_key(X_FORWARDED_HOST) {
        if let Some(host) = incoming.get(header::HOST) {
            outgoing.insert(X_FORWARDED_HOST, host.clone());
        }
    }
    if !outgoing.contains_key(X_FORWARDED_PROTO) {
        outgoing.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    }
    outgoing
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
    let forwarding = forwarding_headers(&head.headers, peer, &state.settings.trusted_proxies.0);
    for name in FORWARDING {
        head.headers.remove(name);
    }
    head.headers.extend(forwarding);
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
        finalize_request(state, Request::from_parts(head.clone(), Body::from(body))).await?;
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
    let secret = state.settings.secret_key.as_deref().unwrap_or_default().as_bytes();
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

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn pairs(map: &HeaderMap) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> =
            map.iter().map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned())).collect();
        pairs.sort();
        pairs
    }

    #[test]
    fn forwarding_headers_by_peer_and_trust() {
        let ranges = |list: &[&str]| -> Vec<IpRange> { list.iter().map(|r| r.parse().unwrap()).collect() };
        /// Header lines, in order.
        type Lines = &'static [(&'static str, &'static str)];
        /// What the application gets, in any order.
        type Expected = Vec<(&'static str, &'static str)>;
        /// What the case is, the client's headers, the peer, the trusted ranges, the result.
        type Case = (&'static str, Lines, Option<&'static str>, Vec<IpRange>, Expected);
        let claims: Lines = &[
            ("host", "signer.example"),
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
            ("forwarded", "for=6.6.6.6"),
            ("x-real-ip", "6.6.6.6"),
        ];
        fn own(xff: Option<&'static str>) -> Expected {
            let mut expected = vec![("x-forwarded-host", "signer.example"), ("x-forwarded-proto", "http")];
            expected.extend(xff.map(|xff| ("x-forwarded-for", xff)));
            expected
        }
        #[rustfmt::skip]
        let table: Vec<Case> = vec![
            ("no peer: no address made up", claims, None, ranges(&["10.0.0.0/8"]), own(None)),
            ("no peer, no host", &[("x-forwarded-for", "6.6.6.6")], None, vec![], vec![("x-forwarded-proto", "http")]),
            ("untrusted peer, nothing trusted", claims, Some("192.0.2.7"), vec![], own(Some("192.0.2.7"))),
            ("untrusted peer, others trusted", claims, Some("192.0.2.7"), ranges(&["10.0.0.0/8", "192.0.2.8"]), own(Some("192.0.2.7"))),
            ("untrusted peer, no claims", &[("host", "signer.example")], Some("192.0.2.7"), vec![], own(Some("192.0.2.7"))),
            ("trusted peer keeps its claims", claims, Some("10.1.2.3"), ranges(&["10.0.0.0/8"]), vec![
                ("forwarded", "for=6.6.6.6"),
                ("x-forwarded-for", "6.6.6.6, 10.1.2.3"),
                ("x-forwarded-host", "evil.example"),
                ("x-forwarded-proto", "https"),
                ("x-real-ip", "6.6.6.6"),
            ]),
            ("trusted peer without claims", &[("host", "signer.example")], Some("10.1.2.3"), ranges(&["10.1.2.3"]), own(Some("10.1.2.3"))),
            ("trusted peer, several lines", &[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "2.2.2.2, 3.3.3.3")], Some("10.1.2.3"), ranges(&["10.0.0.0/8"]), vec![
                ("x-forwarded-for", "1.1.1.1, 2.2.2.2, 3.3.3.3, 10.1.2.3"),
                ("x-forwarded-proto", "http"),
            ]),
            ("mapped IPv4 peer matches an IPv4 range", claims, Some("::ffff:10.1.2.3"), ranges(&["10.0.0.0/8"]), vec![
                ("forwarded", "for=6.6.6.6"),
                ("x-forwarded-for", "6.6.6.6, 10.1.2.3"),
                ("x-forwarded-host", "evil.example"),
                ("x-forwarded-proto", "https"),
                ("x-real-ip", "6.6.6.6"),
            ]),
            ("IPv6 peer in an IPv6 range", &[("x-forwarded-for", "2001:db8::1")], Some("fd00::5"), ranges(&["fd00::/8"]), vec![
                ("x-forwarded-for", "2001:db8::1, fd00::5"),
                ("x-forwarded-proto", "http"),
            ]),
            ("IPv6 peer outside", claims, Some("fe80::1"), ranges(&["fd00::/8", "0.0.0.0/0"]), own(Some("fe80::1"))),
            ("everything trusted", &[("x-forwarded-proto", "https")], Some("203.0.113.9"), ranges(&["0.0.0.0/0"]), vec![
                ("x-forwarded-for", "203.0.113.9"),
                ("x-forwarded-proto", "https"),
            ]),
        ];
        for (case, incoming, peer, trusted, expected) in table {
            let peer = peer.map(|peer| peer.parse::<IpAddr>().unwrap());
            let outgoing = forwarding_headers(&headers(incoming), peer, &trusted);
            let mut expected: Vec<(String, String)> =
                expected.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
            expected.sort();
            assert_eq!(pairs(&outgoing), expected, "{case}");
        }
    }

    #[test]
    fn ip_ranges_parse_strictly_and_match_by_prefix() {
        #[rustfmt::skip]
        let table: &[(&str, &[&str], &[&str])] = &[
            ("127.0.0.1", &["127.0.0.1", "::ffff:127.0.0.1"], &["127.0.0.2", "::1"]),
            (" 10.0.0.0/8 ", &["10.0.0.0", "10.255.255.255"], &["11.0.0.0", "9.255.255.255"]),
            ("192.168.1.128/25", &["192.168.1.128", "192.168.1.255"], &["192.168.1.127"]),
            ("0.0.0.0/0", &["1.2.3.4", "255.255.255.255"], &["::1"]),
            ("::1", &["::1"], &["::2", "127.0.0.1"]),
            ("fd00::/8", &["fd00::1", "fdff:ffff::1"], &["fe00::1", "10.0.0.1"]),
            ("::/0", &["::1", "2001:db8::1"], &["1.2.3.4"]),
        ];
        for (range, inside, outside) in table {
            let parsed: IpRange = range.parse().unwrap();
            for address in *inside {
                assert!(parsed.contains(address.parse().unwrap()), "{address} in {range}");
            }
            for address in *outside {
                assert!(!parsed.contains(address.parse().unwrap()), "{address} not in {range}");
            }
        }
        for bad in [
            "",
            "localhost",
            "10.0.0.0/",
            "10.0.0.0/33",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "10.0.0.1/8",
            "::1/129",
            "fd00::1/8",
            "10.0.0/8",
            "10.0.0.0/8/8",
        ] {
            let error = bad.parse::<IpRange>().unwrap_err();
            assert!(error.contains(&format!("{:?}", bad.trim())), "{bad}: {error}");
        }
    }

    #[test]
    fn trusted_proxies_are_a_list_that_may_be_empty() {
        let list = |text: &str| text.parse::<TrustedProxies>().map(|list| list.0);
        assert_eq!(list(""), Ok(vec![]));
        assert_eq!(list(" , "), Ok(vec![]));
        assert_eq!(list("10.0.0.0/8, ::1,"), Ok(vec!["10.0.0.0/8".parse().unwrap(), "::1".parse().unwrap()]));
        assert!(list("10.0.0.0/8,localhost").unwrap_err().contains("\"localhost\""));
    }

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
