//! CloudFront signed URLs (`AWS_CLOUDFRONT_KEY`), checked against an implementation we did not
//! write: botocore's `CloudFrontSigner` with the `rsa` package, as django-storages signs, in the
//! venv `cargo xtask test` installs (`S3FILE_CLOUDFRONT_PYTHON`, from
//! `tests/cloudfront/requirements.txt`). On the same key, URL and expiry both must write the
//! same URL, byte for byte.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use axum::routing::post;
use axum::{Json, Router};
use common::*;
use s3file_signer::cloudfront_signer::CloudFrontSigner;
use s3file_signer::integration::{S3FileLayer, Uploads};
use serde_json::{json, Value};

const KEY_PAIR_ID: &str = "K2JCJMDEHXQW5F";
const PKCS1_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cloudfront/rsa2048.pkcs1.pem");
const PKCS1: &str = include_str!("fixtures/cloudfront/rsa2048.pkcs1.pem");
const PKCS8: &str = include_str!("fixtures/cloudfront/rsa2048.pkcs8.pem");
const CDN: &str = "d111111abcdef8.cloudfront.net";

/// botocore's signed URL of each `(url, expires)`, with the fixture key (PKCS#1: the form the
/// `rsa` package reads).
fn botocore_signed(cases: &[(&str, u64)]) -> Vec<String> {
    let python = std::env::var("S3FILE_CLOUDFRONT_PYTHON").unwrap_or_else(|_| {
        panic!(
            "S3FILE_CLOUDFRONT_PYTHON is not set: these tests compare with botocore; run them with \
             `cargo xtask test`, or point it at a Python with signer/tests/cloudfront/requirements.txt"
        )
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cloudfront/botocore_sign.py");
    let mut child = Command::new(python)
        .args([script, PKCS1_PATH, KEY_PAIR_ID])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Python runs");
    let mut stdin = child.stdin.take().unwrap();
    for (url, expires) in cases {
        writeln!(stdin, "{}", json!({"url": url, "expires": expires})).unwrap();
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "botocore failed: {}", String::from_utf8_lossy(&output.stderr));
    let urls: Vec<String> = String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(urls.len(), cases.len());
    urls
}

#[test]
fn the_signer_and_botocore_write_the_same_url() {
    let cases: &[(&str, u64)] = &[
        ("https://d111111abcdef8.cloudfront.net/media/a.txt", 1_800_000_000),
        ("https://d111111abcdef8.cloudfront.net/media/AbCdEf012345_-/a%20b%C3%BC.png", 1_767_225_600),
        ("http://cdn.example.com:8443/deep/er/path/file.tar.gz", 4_102_444_800),
        ("https://cdn.example.com/a.txt?response-content-disposition=attachment", 1_800_000_001),
        ("https://cdn.example.com/", 1),
    ];
    let expected = botocore_signed(cases);
    for pem in [PKCS1, PKCS8] {
        let signer = CloudFrontSigner::from_pem(KEY_PAIR_ID, pem).unwrap();
        for ((url, expires), botocore) in cases.iter().zip(&expected) {
            assert_eq!(&signer.signed_url(url, *expires).unwrap(), botocore, "{url} until {expires}");
        }
    }
}

fn cloudfront_settings() -> Vec<&'static str> {
    vec![
        "--custom-domain",
        CDN,
        "--cloudfront-key",
        PKCS8,
        "--cloudfront-key-id",
        KEY_PAIR_ID,
        "--querystring-expire",
        "600",
    ]
}

/// Checks that `url` is the CloudFront signed URL of `key`, expiring about ten minutes from
/// now, exactly as botocore signs it.
fn assert_signed_like_botocore(url: &str, key: &str) {
    let (resource, query) = url.split_once('?').expect("a query");
    assert_eq!(resource, format!("https://{CDN}/{key}"));
    let expires: u64 = query
        .strip_prefix("Expires=")
        .and_then(|rest| rest.split('&').next())
        .and_then(|expires| expires.parse().ok())
        .unwrap_or_else(|| panic!("no Expires first in {url}"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!((now + 590..=now + 610).contains(&expires), "expires {expires}, now {now}");
    assert_eq!(botocore_signed(&[(resource, expires)]), [url]);
}

#[tokio::test]
async fn finalize_answers_with_cloudfront_signed_urls() {
    let server = start(dev_settings(&cloudfront_settings())).await;
    let stored = upload_and_finalize(&server, "report 1.txt").await;
    let key = stored["key"].as_str().unwrap();
    assert!(key.ends_with("/report 1.txt"), "{key}");
    let url = stored["url"].as_str().unwrap();
    assert_signed_like_botocore(url, &key.replace(' ', "%20"));
}

async fn urls(uploads: Uploads) -> Json<Value> {
    Json(json!(uploads
        .files("file")
        .iter()
        .map(|file| json!({"key": file.key, "url": file.url}))
        .collect::<Vec<_>>()))
}

#[tokio::test]
async fn the_layer_hands_the_application_cloudfront_signed_urls() {
    let server = start(dev_settings(&cloudfront_settings())).await;
    let app = Router::new().route("/save", post(urls)).layer(S3FileLayer::new(server.state.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let signed = server.sign("file", &[("a.txt", 5, "text/plain")]).await;
    let upload = signed.file(0);
    assert_eq!(server.upload(upload, &fields_of(upload), "a.txt", b"hello".to_vec()).await.status(), 201);
    let form = [
        ("s3file", "file"),
        ("file", upload["key"].as_str().unwrap()),
        ("file-s3f-signature", signed.signature()),
    ];
    let response = server.http.post(format!("{app_url}/save")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let files: Value = response.json().await.unwrap();
    let key = files[0]["key"].as_str().unwrap();
    assert_signed_like_botocore(files[0]["url"].as_str().unwrap(), key);
}
