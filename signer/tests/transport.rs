//! AWS_S3_VERIFY and AWS_S3_PROXIES against SeaweedFS (started by `cargo xtask test`): the
//! signer reaches S3 through a TLS front whose certificate only a given CA bundle trusts, and
//! through an HTTP proxy. Both fronts are small relays written here that count what passes.
//!
//! The certificates are fixtures made by tests/fixtures/tls/generate.sh.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Relative to the package, where cargo runs its tests: a path compiled in would name whichever
/// checkout built the binary, which cargo may reuse from a target directory others share.
fn fixture(name: &str) -> PathBuf {
    PathBuf::from("tests/fixtures/tls").join(name)
}

fn seaweedfs_endpoint() -> String {
    std::env::var("S3FILE_TEST_S3_ENDPOINT").expect("S3FILE_TEST_S3_ENDPOINT: run with `cargo xtask test`")
}

fn host_port(url: &str) -> String {
    url.split("://").nth(1).unwrap().trim_end_matches('/').to_owned()
}

/// Accepts TLS with the fixture server certificate and relays the plain bytes to `upstream`.
/// Returns the front's `https://` URL and the count of TLS handshakes completed.
async fn tls_front(upstream: String) -> (String, Arc<AtomicUsize>) {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certificates =
        CertificateDer::pem_file_iter(fixture("server.pem")).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certificates, key)
            .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counted = handshakes.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let (acceptor, upstream, counted) = (acceptor.clone(), upstream.clone(), counted.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake: nothing to relay.
                let Ok(mut tls) = acceptor.accept(socket).await else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                let mut plain = TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (url, handshakes)
}

/// A forward HTTP proxy for plain-http targets: reads the request line of each connection,
/// records it, and relays the connection to the host the absolute-form URI names.
async fn http_proxy() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let record = record.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n") {
                    if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let line = String::from_utf8_lossy(&head).trim_end().to_owned();
                record.lock().unwrap().push(line.clone());
                // `PUT http://127.0.0.1:8333/bucket/key HTTP/1.1`: the target is the URI's authority.
                let target = line.split(' ').nth(1).unwrap_or_default();
                let Some(authority) = target.strip_prefix("http://").and_then(|rest| rest.split('/').next())
                else {
                    let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
                    return;
                };
                let mut upstream = TcpStream::connect(authority).await.unwrap();
                // Servers take absolute-form request targets, so the line goes on unchanged.
                upstream.write_all(&head).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut socket, &mut upstream).await;
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn a_ca_bundle_lets_the_signer_reach_a_tls_endpoint() {
    let plain = seaweedfs_endpoint();
    let (front, handshakes) = tls_front(host_port(&plain)).await;
    let bundle = fixture("ca.pem");
    // The signer talks TLS to the front; the test uploads to SeaweedFS directly, as a browser would.
    let server = common::start(common::seaweedfs_settings(&[
        "--endpoint-url",
        &front,
        "--public-endpoint-url",
        &plain,
        "--verify",
        bundle.to_str().unwrap(),
    ]))
    .await;
    let stored = common::upload_and_finalize(&server, "over-tls.txt").await;
    assert_eq!(stored["size"], 5, "{stored}");
    assert!(handshakes.load(Ordering::SeqCst) > 0, "finalize went around the TLS front");
    assert!(server.exists(stored["key"].as_str().unwrap()).await);
}

#[tokio::test]
async fn without_the_bundle_an_untrusted_endpoint_is_refused() {
    let plain = seaweedfs_endpoint();
    let (front, handshakes) = tls_front(host_port(&plain)).await;
    let untrusting = common::start(common::seaweedfs_settings(&[
        "--endpoint-url",
        &front,
        "--public-endpoint-url",
        &plain,
    ]))
    .await;
    // The same folders, seen by a signer that reaches SeaweedFS directly.
    let config = &untrusting.state.config;
    let direct = common::start(common::seaweedfs_settings(&[
        "--location",
        &config.finals.location,
        "--upload-path",
        &config.uploads.path,
    ]))
    .await;
    let (signed, key) = common::uploaded(&untrusting, "untrusted.txt").await;
    let response = untrusting
        .finalize(&[("s3file", "file"), ("file", &key), ("file-s3f-signature", signed.signature())])
        .await;
    let (status, text) = common::error_text(response).await;
    assert!(status >= 500, "{status} {text}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 0, "no handshake may succeed without the CA");
    // Nothing was copied, nothing was lost: the upload is still there for a retry.
    assert!(!direct.exists(&untrusting.final_key(&key)).await);
    assert!(direct.exists(&key).await);
}

#[tokio::test]
async fn requests_to_s3_go_through_the_proxy_for_the_endpoints_scheme() {
    let (proxy, seen) = http_proxy().await;
    let proxies = format!(r#"{{"http": "{proxy}", "https": "http://127.0.0.1:9"}}"#);
    let server = common::start(common::seaweedfs_settings(&["--proxies", &proxies])).await;
    let stored = common::upload_and_finalize(&server, "proxied.txt").await;
    assert_eq!(stored["size"], 5, "{stored}");
    let endpoint = seaweedfs_endpoint();
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "no request went through the proxy");
    assert!(seen.iter().all(|line| line.contains(&format!(" {endpoint}/"))), "{seen:?}");
}

#[tokio::test]
async fn bad_transport_settings_stop_the_signer_at_start_up() {
    let garbage = std::env::temp_dir().join(format!("not-a-bundle-{}.pem", common::hex_id()));
    std::fs::write(&garbage, "hello").unwrap();
    for (args, expected) in [
        (vec!["--verify", "false"], "CA bundle"),
        (vec!["--proxies", "http://proxy:3128"], "AWS_S3_PROXIES"),
        (vec!["--verify", "/nonexistent/ca.pem"], "/nonexistent/ca.pem"),
        (vec!["--verify", garbage.to_str().unwrap()], "no certificate"),
    ] {
        let settings = common::seaweedfs_settings(&args);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let error = match s3file_signer::AppState::build(settings, listener.local_addr().unwrap()).await {
            Ok(_) => panic!("{args:?} started"),
            Err(error) => format!("{error:#}"),
        };
        assert!(error.contains(expected), "{args:?}: {error}");
    }
    std::fs::remove_file(garbage).unwrap();
}
