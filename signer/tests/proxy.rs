//! Proxy mode against a small Python application (tests/proxy_app/app.py), and against
//! applications written here that echo what reached them, hang, or are not there at all.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::Json;
use common::*;
use s3file_signer::config::Settings;
use s3file_signer::forward_signature;
use s3file_signer::upstream::Upstream;
use s3file_signer::AppState;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "test-secret-that-is-long-enough-0123456789";

struct App(Child);

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn python_app() -> (App, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // Relative to the package, where cargo runs its tests (see `transport.rs`, `fixture`).
    let script = "../tests/proxy_app/app.py";
    let app = App(Command::new("python3")
        .args([script, "--port", &port.to_string(), "--secret", SECRET])
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 runs"));
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(&url).await.is_ok() {
            return (app, url);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the Python application did not start");
}

/// The form a page submits through the proxy: a name, and the upload `key` of the field `file`
/// under `signature`.
fn submission<'a>(key: &'a str, signature: &'a str) -> [(&'static str, &'a str); 4] {
    [("name", "Ada"), ("s3file", "file"), ("file", key), ("file-s3f-signature", signature)]
}

#[tokio::test]
async fn submissions_are_finalized_and_forwarded_with_a_signature_the_app_verifies() {
    let (_app, upstream) = python_app().await;
    let server = start(dev_settings(&["--upstream", &upstream])).await;
    let (signed, key) = uploaded(&server, "me.png").await;
    let response = server
        .http
        .post(format!("{}/profile?next=%2Fhome", server.url))
        .form(&submission(&key, signed.signature()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["verified"], true);
    assert_eq!(body["uploads"][0]["name"], "me.png");
    let final_key = body["uploads"][0]["key"].as_str().unwrap();
    assert!(server.exists(final_key).await);
    let fields: Vec<(String, String)> = serde_json::from_value(body["fields"].clone()).unwrap();
    assert!(fields.contains(&("name".to_owned(), "Ada".to_owned())));
    assert!(fields.contains(&("file".to_owned(), final_key.to_owned())));
    assert!(!fields.iter().any(|(name, _)| name == "s3file" || name.ends_with("-s3f-signature")));
}

#[tokio::test]
async fn a_forged_submission_stops_at_the_signer_and_forged_headers_are_refused() {
    let (_app, upstream) = python_app().await;
    let server = start(dev_settings(&["--upstream", &upstream])).await;
    let forged = server
        .http
        .post(format!("{}/profile", server.url))
        .form(&[
            ("s3file", "file"),
            ("file", "tmp/s3file/AAAAAAAAAAAAAAAAAAAAAA/x"),
            ("file-s3f-signature", "1.x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // A client cannot vouch for its own keys: the signer refuses a header that is its own to
    // write, and the application refuses descriptions that come without one.
    let injected = server
        .http
        .post(format!("{}/profile", server.url))
        .header("x-s3file-signature", "t=1,v2=00")
        .form(&[("avatar-s3file", "{\"key\": \"someone-elses\"}")])
        .send()
        .await
        .unwrap();
    assert_eq!(injected.status(), 400);
    let body: Value = injected.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("x-s3file-signature"), "{body}");
    let unsigned = server
        .http
        .post(format!("{}/profile", server.url))
        .form(&[("avatar-s3file", "{\"key\": \"someone-elses\"}")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    let body: Value = unsigned.json().await.unwrap();
    assert_eq!(body["error"], "unsigned keys");
}

#[tokio::test]
async fn other_requests_stream_through_untouched() {
    let (_app, upstream) = python_app().await;
    let server = start(dev_settings(&["--upstream", &upstream])).await;
    let page = server.http.get(format!("{}/", server.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("data-s3file"));
    // Larger than what the proxy inspects: forwarded as it came.
    let big: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let form = reqwest::multipart::Form::new()
        .part("upload", reqwest::multipart::Part::bytes(big.clone()).file_name("big.bin"));
    let response = server.http.post(format!("{}/raw", server.url)).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["length"].as_u64().unwrap() > big.len() as u64);
    assert!(body["content_type"].as_str().unwrap().starts_with("multipart/form-data"));
    assert_eq!(body["signature"], Value::Null);
    // The signer's own routes still answer.
    assert_eq!(server.http.get(format!("{}/healthz", server.url)).send().await.unwrap().status(), 200);
}

/// An application that answers every request with what reached it.
#[derive(Clone, Default)]
struct Echo {
    requests: Arc<AtomicUsize>,
}

async fn echo_request(State(echo): State<Echo>, request: Request) -> Json<Value> {
    echo.requests.fetch_add(1, Ordering::SeqCst);
    let (head, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let headers: Vec<(String, String)> = head
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap().to_owned()))
        .collect();
    Json(json!({
        "method": head.method.as_str(),
        "path": head.uri.path_and_query().unwrap().as_str(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
        "length": body.len(),
        "sha256": hex::encode(Sha256::digest(&body)),
    }))
}

async fn echo_app() -> (Echo, String) {
    let echo = Echo::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(echo_request).with_state(echo.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (echo, url)
}

/// Every value of a header the application received.
fn received<'a>(echoed: &'a Value, name: &str) -> Vec<&'a str> {
    echoed["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pair| pair[0] == name)
        .map(|pair| pair[1].as_str().unwrap())
        .collect()
}

/// How the signer is served: with the peer's address on each request, as `serve` does, or
/// without it, as a router served by plain `axum::serve` is.
#[derive(Clone, Copy, PartialEq)]
enum Peer {
    Known,
    Unknown,
}

/// A signer in proxy mode, optionally with an upstream of its own (other timeouts).
async fn proxy(settings: Settings, peer: Peer, upstream: Option<Upstream>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut state = AppState::build(settings, addr).await.expect("signer starts");
    if upstream.is_some() {
        Arc::get_mut(&mut state.0).expect("nothing shares the state yet").upstream = upstream;
    }
    let app = s3file_signer::app(state.clone());
    match peer {
        Peer::Known => tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap()
        }),
        Peer::Unknown => tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }),
    };
    Server { url: format!("http://{addr}"), state, http: reqwest::Client::new() }
}

#[tokio::test]
async fn forwarded_forms_are_signed_over_method_path_query_body_digest_and_time() {
    let (_echo, upstream) = echo_app().await;
    let server = proxy(dev_settings(&["--upstream", &upstream]), Peer::Unknown, None).await;
    let (signed, key) = uploaded(&server, "me.png").await;
    let response = server
        .http
        .post(format!("{}/profile?next=%2Fhome&a=1", server.url))
        .form(&submission(&key, signed.signature()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let echoed: Value = response.json().await.unwrap();
    let path = echoed["path"].as_str().unwrap();
    assert_eq!(path, "/profile?next=%2Fhome&a=1");
    let body = echoed["body"].as_str().unwrap();
    // The digest header names exactly the bytes the application read.
    assert_eq!(received(&echoed, "x-s3file-content-sha256"), [echoed["sha256"].as_str().unwrap()]);
    let [header] = received(&echoed, "x-s3file-signature")[..] else { panic!("one signature: {echoed}") };
    let (t, mac) = header.split_once(',').unwrap();
    let t: i64 = t.strip_prefix("t=").unwrap().parse().unwrap();
    assert!(mac.starts_with("v2=") && mac.len() == 3 + 64, "{header}");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((now - t).abs() <= 2, "signed now: {t} vs {now}");
    let verify = |method: &str, path: &str, body: &str| {
        forward_signature::verify(SECRET.as_bytes(), header, now, method, path, body.as_bytes())
    };
    assert_eq!(verify("POST", path, body), Ok(()));
    assert!(verify("PUT", path, body).is_err());
    assert!(verify("POST", "/profile?next=%2Fadmin&a=1", body).is_err());
    assert!(verify("POST", path, &format!("{body}&admin=1")).is_err());
    assert!(forward_signature::verify(SECRET.as_bytes(), header, now + 3600, "POST", path, body.as_bytes())
        .is_err());
}

#[tokio::test]
async fn client_sent_s3file_headers_are_refused_not_forwarded() {
    let (echo, upstream) = echo_app().await;
    let server = proxy(dev_settings(&["--upstream", &upstream]), Peer::Unknown, None).await;
    let (signed, key) = uploaded(&server, "me.png").await;
    let s3file_form = submission(&key, signed.signature());
    for name in ["x-s3file-signature", "X-S3File-Content-SHA256", "X-S3FILE-ANYTHING", "x-s3file-"] {
        for request in [
            server.http.get(format!("{}/", server.url)),
            server.http.post(format!("{}/profile", server.url)).form(&[("name", "Ada")]),
            server.http.post(format!("{}/profile", server.url)).form(&s3file_form),
            server.http.post(format!("{}/raw", server.url)).body(vec![0u8; 2 * 1024 * 1024]),
        ] {
            let response = request.header(name, "t=1,v2=00").send().await.unwrap();
            assert_eq!(response.status(), 400, "{name}");
            let body: Value = response.json().await.unwrap();
            let message = body["error"].as_str().unwrap();
            assert!(message.contains(&name.to_ascii_lowercase()) && message.contains("signer"), "{message}");
        }
    }
    assert_eq!(echo.requests.load(Ordering::SeqCst), 0, "nothing reached the application");
    // Names that merely resemble them pass.
    let response =
        server.http.get(format!("{}/", server.url)).header("x-s3filesignature", "1").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(echo.requests.load(Ordering::SeqCst), 1);
}

async fn forwarded_by(settings: Settings, peer: Peer) -> Value {
    let server = proxy(settings, peer, None).await;
    let response = server
        .http
        .get(format!("{}/who", server.url))
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "https")
        .header("forwarded", "for=6.6.6.6;host=evil.example;proto=https")
        .header("x-real-ip", "6.6.6.6")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut echoed: Value = response.json().await.unwrap();
    echoed["signer"] = json!(server.url.strip_prefix("http://").unwrap());
    echoed
}

#[tokio::test]
async fn forwarding_headers_are_the_signers_own_unless_the_peer_is_a_trusted_proxy() {
    let (_echo, upstream) = echo_app().await;
    // No peer address (plain axum::serve): nothing is made up for X-Forwarded-For.
    let echoed = forwarded_by(dev_settings(&["--upstream", &upstream]), Peer::Unknown).await;
    assert_eq!(received(&echoed, "x-forwarded-for"), Vec::<&str>::new());
    assert_eq!(received(&echoed, "x-forwarded-host"), [echoed["signer"].as_str().unwrap()]);
    assert_eq!(received(&echoed, "x-forwarded-proto"), ["http"]);
    assert_eq!(received(&echoed, "forwarded"), Vec::<&str>::new());
    assert_eq!(received(&echoed, "x-real-ip"), Vec::<&str>::new());
    // A peer that is not trusted: its claims are replaced.
    for trusted in [None, Some("10.0.0.0/8,::1"), Some("127.0.0.2")] {
        let mut args = vec!["--upstream", upstream.as_str()];
        args.extend(trusted.iter().flat_map(|list| ["--trusted-proxies", list]));
        let echoed = forwarded_by(dev_settings(&args), Peer::Known).await;
        assert_eq!(received(&echoed, "x-forwarded-for"), ["127.0.0.1"], "{trusted:?}");
        assert_eq!(received(&echoed, "x-forwarded-host"), [echoed["signer"].as_str().unwrap()]);
        assert_eq!(received(&echoed, "x-forwarded-proto"), ["http"]);
        assert_eq!(received(&echoed, "forwarded"), Vec::<&str>::new());
        assert_eq!(received(&echoed, "x-real-ip"), Vec::<&str>::new());
    }
    // A trusted proxy in front: its word is kept, and the signer adds its hop.
    for trusted in ["127.0.0.1", "127.0.0.0/8", "10.0.0.0/8, 127.0.0.1/32"] {
        let echoed =
            forwarded_by(dev_settings(&["--upstream", &upstream, "--trusted-proxies", trusted]), Peer::Known)
                .await;
        assert_eq!(received(&echoed, "x-forwarded-for"), ["6.6.6.6, 127.0.0.1"], "{trusted}");
        assert_eq!(received(&echoed, "x-forwarded-host"), ["evil.example"]);
        assert_eq!(received(&echoed, "x-forwarded-proto"), ["https"]);
        assert_eq!(received(&echoed, "forwarded"), ["for=6.6.6.6;host=evil.example;proto=https"]);
    }
}

#[test]
fn trusted_proxies_must_be_addresses_or_ranges() {
    for bad in ["localhost", "10.0.0.0/33", "10.0.0.1/8", "::1/129", "10.0.0.0/", "127.0.0.1,localhost"] {
        let argv = ["s3file-signer", "--trusted-proxies", bad];
        let error = <s3file_signer::config::Cli as clap::Parser>::try_parse_from(argv).unwrap_err();
        assert!(error.to_string().contains(bad), "{bad}: {error}");
    }
}

/// An application that accepts connections and then never says a word.
async fn silent_app() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    url
}

const IDLE: Duration = Duration::from_millis(1000);

fn upstream(url: &str) -> Upstream {
    Upstream::with_timeouts(url, Duration::from_secs(5), IDLE).unwrap()
}

fn patient_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(15)).build().unwrap()
}

#[tokio::test]
async fn an_application_that_does_not_answer_gives_504() {
    let url = silent_app().await;
    let mut server = proxy(dev_settings(&["--upstream", &url]), Peer::Unknown, Some(upstream(&url))).await;
    server.http = patient_client();
    for request in [
        server.http.get(format!("{}/", server.url)),
        server.http.post(format!("{}/profile", server.url)).form(&[("name", "Ada")]),
    ] {
        let started = Instant::now();
        let response = request.send().await.expect("the signer answers");
        assert_eq!(response.status(), 504);
        assert!(started.elapsed() < IDLE * 4, "{:?}", started.elapsed());
        let body: Value = response.json().await.unwrap();
        let message = body["error"].as_str().unwrap();
        // Clear to the client, without telling it where the application runs.
        assert!(message.contains("application") && message.contains("did not answer"), "{message}");
        assert!(!message.contains(url.strip_prefix("http://").unwrap()), "{message}");
    }
}

#[tokio::test]
async fn an_application_that_accepts_no_connection_gives_504() {
    // A listener that never accepts, its queue filled: the kernel leaves further handshakes
    // unanswered, as with an application too busy to take connections.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    for _ in 0..8 {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_millis(200), tokio::net::TcpStream::connect(addr)).await
        {
            queued.push(stream);
        }
    }
    let url = format!("http://{addr}");
    let short = Upstream::with_timeouts(&url, Duration::from_millis(500), Duration::from_secs(30)).unwrap();
    let mut server = proxy(dev_settings(&["--upstream", &url]), Peer::Unknown, Some(short)).await;
    server.http = patient_client();
    let started = Instant::now();
    let response = server.http.get(format!("{}/", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 504);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("accepted no connection"), "{body}");
    drop(listener);
}

#[tokio::test]
async fn an_application_that_is_not_there_gives_502() {
    let url = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let server = proxy(dev_settings(&["--upstream", &url]), Peer::Unknown, None).await;
    let response = server.http.get(format!("{}/", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("application") && message.contains("unreachable"), "{message}");
    assert!(!message.contains(url.strip_prefix("http://").unwrap()), "{message}");
}

#[tokio::test]
async fn a_response_that_stalls_is_cut() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head).await;
            let _ = stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\nten bytes.",
                )
                .await;
            held.push(stream);
        }
    });
    let mut server = proxy(dev_settings(&["--upstream", &url]), Peer::Unknown, Some(upstream(&url))).await;
    server.http = patient_client();
    let started = Instant::now();
    let response = server.http.get(format!("{}/", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.bytes().await;
    assert!(body.is_err(), "a cut body, not a complete one: {body:?}");
    assert!(started.elapsed() < IDLE * 4, "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_slow_upload_that_keeps_moving_is_not_cut() {
    let (_echo, upstream_url) = echo_app().await;
    let server =
        proxy(dev_settings(&["--upstream", &upstream_url]), Peer::Unknown, Some(upstream(&upstream_url)))
            .await;
    // Longer in all than the idle timeout, never idle for as long.
    let chunks = futures_util::stream::unfold(0, |sent| async move {
        if sent == 8 {
            return None;
        }
        tokio::time::sleep(IDLE / 3).await;
        Some((Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 1000])), sent + 1))
    });
    let started = Instant::now();
    let response = patient_client()
        .post(format!("{}/raw", server.url))
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() > IDLE * 2);
    assert_eq!(response.status(), 200);
    let echoed: Value = response.json().await.unwrap();
    assert_eq!(echoed["length"], 8000);
}

#[tokio::test]
async fn the_python_example_passes_its_tests() {
    let dir = "../examples/verify/python";
    let output = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", dir, "-v"])
        .output()
        .expect("python3 runs the Python verification example's tests");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
