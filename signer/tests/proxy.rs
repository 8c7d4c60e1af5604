//! Proxy mode against a small Python application (tests/proxy_app/app.py).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;

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
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/proxy_app/app.py");
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

#[tokio::test]
async fn submissions_are_finalized_and_forwarded_with_a_signature_the_app_verifies() {
    let (_app, upstream) = python_app().await;
    let server = start(dev_settings(&["--upstream", &upstream])).await;
    let (signed, key) = uploaded(&server, "me.png").await;
    let response = server
        .http
        .post(format!("{}/profile", server.url))
        .form(&[
            ("name", "Ada"),
            ("s3file", "file"),
            ("file", &key),
            ("file-s3f-signature", signed.signature()),
        ])
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
async fn a_forged_submission_stops_at_the_signer_and_forged_headers_are_dropped() {
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
    // A client cannot vouch for its own keys: the header does not reach the application.
    let injected = server
        .http
        .post(format!("{}/profile", server.url))
        .header("x-s3file-signature", "t=1,v1=00")
        .form(&[("avatar-s3file", "{\"key\": \"someone-elses\"}")])
        .send()
        .await
        .unwrap();
    assert_eq!(injected.status(), 403);
    let body: Value = injected.json().await.unwrap();
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
