//! The store suite against the embedded dev store.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use reqwest::multipart::{Form, Part};

store_suite!(dev_settings);
s3_api_suite!(dev_settings);
finalize_attack_suite!(dev_settings);
gzip_suite!(dev_settings);

#[tokio::test]
async fn two_dev_signers_with_one_secret_and_store_are_replicas() {
    let dir = std::env::temp_dir().join(format!("s3file-test-{}", hex_id()));
    let a = start(settings(&["--dev", "--dev-store-dir", dir.to_str().unwrap()])).await;
    let b = start(settings(&["--dev", "--dev-store-dir", dir.to_str().unwrap()])).await;
    common::replicas_finalize_what_another_signed(a, b).await;
}

#[tokio::test]
async fn dev_store_refuses_unsigned_and_forged_sdk_requests() {
    let server = start(dev_settings(&[])).await;
    let object = format!("{}/s3/s3file-dev/secret.txt", server.url);
    let anonymous = server.http.put(&object).body("x").send().await.unwrap();
    assert_eq!(anonymous.status(), 403);
    let forged = server
        .http
        .delete(&object)
        .header("x-amz-date", "20260101T000000Z")
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .header("authorization", "AWS4-HMAC-SHA256 Credential=S3FILEDEVSTORE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
}

/// S3 requires a field that a policy condition names; SeaweedFS lets a `starts-with` condition
/// pass without it.
#[tokio::test]
async fn dev_store_refuses_a_post_without_the_checksum_its_policy_requires() {
    let server = start(dev_settings(&[])).await;
    let signed = server.sign("file", &[("a.txt", 5, "text/plain")]).await;
    let upload = signed.file(0);
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields_of(upload) {
        form = form.text(name, value);
    }
    let part = reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.txt");
    let response = server
        .http
        .post(upload["url"].as_str().unwrap())
        .multipart(form.part("file", part))
        .send()
        .await
        .unwrap();
    let (status, body) = error_text(response).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Content-MD5"), "{body}");
    assert!(!server.exists(upload["key"].as_str().unwrap()).await);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            paths.extend(walk(&path));
        } else {
            paths.push(path);
        }
    }
    paths
}

#[tokio::test]
async fn metrics_count_signatures_and_rejections_and_responses_carry_a_request_id() {
    let server = start(dev_settings(&[])).await;
    let response = server.sign_raw(serde_json::json!({"field": "f", "files": [{"name": "a", "size": 1, "type": ""}, {"name": "b", "size": 1, "type": ""}]})).await;
    assert_eq!(response.status(), 200);
    let id = response.headers().get("x-request-id").expect("a request id").to_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    let forged = server
        .finalize(&[
            ("s3file", "f"),
            ("f", "tmp/s3file/AAAAAAAAAAAAAAAAAAAAAA/a"),
            ("f-s3f-signature", "1.x"),
        ])
        .await;
    assert_eq!(forged.status(), 403);
    let text = server.http.get(format!("{}/metrics", server.url)).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("s3file_signed_files_total 2\n"), "{text}");
    assert!(text.contains("s3file_rejected_requests_total{reason=\"forbidden\"} 1\n"), "{text}");
    assert!(text.contains("s3file_request_duration_seconds_count{endpoint=\"sign\"} 1\n"), "{text}");
}

const MIB: u64 = 1024 * 1024;

/// The dev store's answers share the signer's origin: an uploaded page must never run there.
#[tokio::test]
async fn dev_store_serves_active_content_as_a_sandboxed_attachment() {
    let server = start(dev_settings(&[])).await;
    let page = b"<!doctype html><script>fetch('/s3file/sign')</script>".to_vec();
    let html = uploaded_as(&server, "page.html", "text/html", page).await;
    let png = uploaded_as(&server, "pixel.png", "image/png", b"\x89PNG\r\n\x1a\n".to_vec()).await;
    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let response = server.http.request(method.clone(), &html).send().await.unwrap();
        assert_eq!(response.status(), 200, "{method}");
        let headers = response.headers();
        assert_eq!(headers["content-type"], "text/html", "{method}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{method}");
        assert_eq!(headers["content-security-policy"], "sandbox", "{method}");
        let disposition = headers.get("content-disposition").map(|value| value.to_str().unwrap());
        assert!(
            disposition.is_some_and(|value| value.starts_with("attachment")),
            "{method}: {disposition:?}"
        );

        let response = server.http.request(method.clone(), &png).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{method}");
        assert_eq!(headers["content-security-policy"], "sandbox", "{method}");
        assert!(headers.get("content-disposition").is_none(), "{method}: an image shows inline");
    }
}

/// Uploads `bytes` as `name` of type `kind` through a signed POST; returns its download URL.
async fn uploaded_as(server: &Server, name: &str, kind: &str, bytes: Vec<u8>) -> String {
    let signed = server.sign("file", &[(name, bytes.len() as u64, kind)]).await;
    let upload = signed.file(0);
    let response = server.upload(upload, &fields_of(upload), name, bytes).await;
    assert_eq!(response.status(), 201);
    format!("{}/{}", upload["url"].as_str().unwrap(), upload["key"].as_str().unwrap())
}

#[tokio::test]
async fn dev_store_refuses_a_huge_form_field_without_reading_it() {
    let server = start(dev_settings(&[])).await;
    let total = 100 * MIB;
    let sent = Arc::new(AtomicU64::new(0));
    let field = Part::stream(counted_body(total, sent.clone()));
    let form = Form::new().part("x-ignore-padding", field);
    let response = answer(server.http.post(format!("{}/s3/s3file-dev", server.url)).multipart(form)).await;
    let (status, body) = error_text(response).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>MaxPostPreDataLengthExceeded</Code>"), "{body}");
    let sent = sent.load(SeqCst);
    assert!(sent < total / 4, "the store took {sent} bytes of a field before refusing it");
}

/// What a multipart parser holds until it finds an end: a preamble before the first boundary,
/// a part's headers before their blank line.
#[tokio::test]
async fn dev_store_refuses_a_form_that_never_gets_to_a_part_without_holding_it() {
    let server = start(dev_settings(&[])).await;
    let cases =
        [("preamble", ""), ("part headers", "--b\r\nContent-Disposition: form-data; name=\"key\"; x=")];
    for (case, start) in cases {
        let total = 100 * MIB;
        let sent = Arc::new(AtomicU64::new(0));
        let body = start.as_bytes().to_vec();
        let request = server
            .http
            .post(format!("{}/s3/s3file-dev", server.url))
            .header("content-type", "multipart/form-data; boundary=b")
            .body(counted_body_after(body, total, sent.clone()));
        let (status, body) = error_text(answer(request).await).await;
        assert_eq!(status, 400, "{case}: {body}");
        assert!(body.contains("<Code>MaxPostPreDataLengthExceeded</Code>"), "{case}: {body}");
        let sent = sent.load(SeqCst);
        assert!(sent < total / 4, "{case}: the store took {sent} bytes before refusing");
    }
}

#[tokio::test]
async fn dev_store_refuses_a_forged_post_before_storing_a_byte() {
    let server = start(dev_settings(&[])).await;
    let signed = server.sign("file", &[("big.bin", 5, "application/octet-stream")]).await;
    let upload = signed.file(0);
    let fields = with_checksum(&server, fields_of(upload));
    let forged = replace(&fields, "x-amz-signature", &"0".repeat(64));
    let unsigned: Vec<_> = fields
        .iter()
        .filter(|(name, _)| !["policy", "x-amz-signature"].contains(&name.as_str()))
        .cloned()
        .collect();
    for (case, fields) in [("forged", forged), ("unsigned", unsigned)] {
        let total = 64 * MIB;
        let sent = Arc::new(AtomicU64::new(0));
        let form = file_form(&fields, counted_body(total, sent.clone()));
        let response = answer(server.http.post(upload["url"].as_str().unwrap()).multipart(form)).await;
        let (status, body) = error_text(response).await;
        assert!([400, 403].contains(&status), "{case}: {status} {body}");
        let sent = sent.load(SeqCst);
        assert!(sent < total / 4, "{case}: the store took {sent} bytes of the file before refusing it");
        assert_eq!(stored_files(&server), Vec::<PathBuf>::new(), "{case}");
    }
    assert!(!server.exists(upload["key"].as_str().unwrap()).await);
}

#[tokio::test]
async fn dev_store_keeps_an_oversized_post_private_while_it_streams_and_then_removes_it() {
    let server = start(dev_settings(&[])).await;
    let signed = server.sign("file", &[("big.bin", MIB, "application/octet-stream")]).await;
    let upload = signed.file(0);
    let (feed, body) = fed_body();
    let form = file_form(&with_checksum(&server, fields_of(upload)), body);
    let request = tokio::spawn(answer(server.http.post(upload["url"].as_str().unwrap()).multipart(form)));
    feed.send(Ok(vec![1; (MIB / 2) as usize])).await.unwrap();
    let staged = files_once(&server, |files| !files.is_empty()).await;
    assert_eq!(staged.len(), 1, "{staged:?}");
    assert_private(&staged[0]);
    // The store may refuse as soon as this crosses the limit, and stop taking chunks.
    let _ = feed.send(Ok(vec![1; MIB as usize])).await;
    drop(feed);
    let (status, body) = error_text(request.await.unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>EntityTooLarge</Code>"), "{body}");
    assert_eq!(stored_files(&server), Vec::<PathBuf>::new());
    assert!(!server.exists(upload["key"].as_str().unwrap()).await);
}

#[tokio::test]
async fn dev_store_removes_the_file_of_a_post_abandoned_midway() {
    let server = start(dev_settings(&[])).await;
    let signed = server.sign("file", &[("big.bin", MIB, "application/octet-stream")]).await;
    let upload = signed.file(0);
    let (feed, body) = fed_body();
    let form = file_form(&with_checksum(&server, fields_of(upload)), body);
    let request = tokio::spawn(server.http.post(upload["url"].as_str().unwrap()).multipart(form).send());
    feed.send(Ok(vec![1; (MIB / 2) as usize])).await.unwrap();
    files_once(&server, |files| !files.is_empty()).await;
    // The browser goes away: the connection breaks off in the middle of the file.
    let _ = feed.send(Err(std::io::Error::other("tab closed"))).await;
    let _ = request.await;
    files_once(&server, |files| files.is_empty()).await;
}

/// The fields of a signed upload, with the checksum field its policy requires (any value: these
/// uploads are refused before it is compared).
fn with_checksum(server: &Server, mut fields: Vec<(String, String)>) -> Vec<(String, String)> {
    fields.extend(server.post_checksum(b""));
    fields
}

/// A browser-shaped upload form whose file streams from `file`.
fn file_form(fields: &[(String, String)], file: reqwest::Body) -> Form {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.text(name.clone(), value.clone());
    }
    form.part("file", Part::stream(file).file_name("big.bin"))
}

/// A streamed body of `total` bytes, made as the client sends it; `sent` counts what it took,
/// so a test tells how much went out before the answer.
fn counted_body(total: u64, sent: Arc<AtomicU64>) -> reqwest::Body {
    counted_body_after(Vec::new(), total, sent)
}

/// `start`, then a streamed body of `total` bytes as [`counted_body`] makes it.
fn counted_body_after(start: Vec<u8>, total: u64, sent: Arc<AtomicU64>) -> reqwest::Body {
    const CHUNK: u64 = 64 * 1024;
    let filler = futures_util::stream::iter(0..total.div_ceil(CHUNK)).map(move |index| {
        let length = CHUNK.min(total - index * CHUNK);
        sent.fetch_add(length, SeqCst);
        vec![b'a'; length as usize]
    });
    let chunks = futures_util::stream::iter([start]).chain(filler).map(Ok::<_, std::io::Error>);
    reqwest::Body::wrap_stream(chunks)
}

type Feed = tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>;

/// A streamed body the test hands out chunk by chunk; an error breaks the connection off.
fn fed_body() -> (Feed, reqwest::Body) {
    let (feed, chunks) = tokio::sync::mpsc::channel(1);
    let stream = futures_util::stream::unfold(chunks, |mut chunks| async move {
        chunks.recv().await.map(|chunk| (chunk, chunks))
    });
    (feed, reqwest::Body::wrap_stream(stream))
}

/// Sends a request that must be answered, and quickly.
async fn answer(request: reqwest::RequestBuilder) -> reqwest::Response {
    tokio::time::timeout(Duration::from_secs(30), request.send())
        .await
        .expect("answered within 30 s")
        .expect("answered")
}

fn stored_files(server: &Server) -> Vec<PathBuf> {
    walk(&common::dev_store_dir(&server.state))
}

/// The store's files once `wanted` holds of them; fails after ten seconds.
async fn files_once(server: &Server, wanted: impl Fn(&[PathBuf]) -> bool) -> Vec<PathBuf> {
    for _ in 0..500 {
        let files = stored_files(server);
        if wanted(&files) {
            return files;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the store's files stayed {:?}", stored_files(server));
}

fn assert_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} is mode {mode:o}", path.display());
}

/// S3 refuses a form field no condition of its policy names: the plain fields with
/// `Content-Encoding` added. SeaweedFS stores such a form, with the encoding it names.
#[tokio::test]
async fn dev_store_refuses_a_content_encoding_the_policy_does_not_name() {
    let server = start(dev_settings(&["--is-gzipped", "true"])).await;
    let original = gzip_suite::css();
    let signed = server.sign("file", &[("site.css", original.len() as u64, "text/css")]).await;
    let upload = signed.file(0);
    let mut encoded = fields_of(upload);
    encoded.push(("Content-Encoding".to_owned(), "gzip".to_owned()));
    let (status, body) = error_text(server.upload(upload, &encoded, "site.css", original).await).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Extra input fields: Content-Encoding"), "{body}");
    assert!(!server.exists(upload["key"].as_str().unwrap()).await);
}

/// HEAD answers what GET does: the stored encoding and the stored (compressed) length.
#[tokio::test]
async fn dev_store_heads_a_gzip_object_with_its_encoding() {
    let server = start(dev_settings(&["--is-gzipped", "true"])).await;
    let original = gzip_suite::css();
    let compressed = gzip_suite::gzip(&original);
    let signed = server.sign("file", &[("site.css", original.len() as u64, "text/css")]).await;
    let upload = signed.file(0);
    let response =
        server.upload(upload, &gzip_suite::gzip_fields_of(upload), "site.css", compressed.clone()).await;
    assert_eq!(response.status(), 201);
    let url = format!("{}/{}", upload["url"].as_str().unwrap(), upload["key"].as_str().unwrap());
    let head = server.http.head(url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-encoding"], "gzip");
    assert_eq!(head.headers()["content-type"], "text/css");
    assert_eq!(head.headers()["content-length"], compressed.len().to_string().as_str());
}

/// A presigned PUT signs the exact length, and a multipart upload's parts are planned over
/// the file's size: neither can take bytes compressed after signing, so neither gets gzip.
#[tokio::test]
async fn put_mode_and_multipart_uploads_get_no_gzip_fields() {
    for args in [&["--upload-method", "put"][..], &["--multipart-threshold", "1000"]] {
        let args = [&["--is-gzipped", "true"][..], args].concat();
        let server = start(dev_settings(&args)).await;
        let signed = server.sign("file", &[("site.css", 2000, "text/css")]).await;
        let file = signed.file(0);
        assert!(file.get("put").is_some() || file.get("multipart").is_some(), "{args:?}: {file}");
        assert!(file.get("gzip").is_none(), "{args:?}: {file}");
    }
}
