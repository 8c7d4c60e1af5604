//! The store suite against the embedded dev store.

mod common;

use common::*;

store_suite!(dev_settings);
s3_api_suite!(dev_settings);

#[tokio::test]
async fn two_dev_signers_with_one_secret_and_store_are_replicas() {
    let dir = std::env::temp_dir().join(format!("s3file-test-{}", hex_id()));
    let a = start(settings(&["--dev-store-dir", dir.to_str().unwrap()])).await;
    let b = start(settings(&["--dev-store-dir", dir.to_str().unwrap()])).await;
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

#[tokio::test]
async fn dev_store_keys_never_leave_its_directory() {
    let dir = std::env::temp_dir().join(format!("s3file-test-{}", hex_id()));
    let server = start(settings(&["--dev-store-dir", dir.to_str().unwrap()])).await;
    let signed = server.sign("file", &[("x", 5, "text/plain")]).await;
    let upload = signed.file(0);
    // The key's prefix is signed, so try escaping with what follows it.
    let folder = upload["key"].as_str().unwrap().rsplit_once('/').unwrap().0.to_owned();
    let escaping = format!("{folder}/../../../../escaped.txt");
    let fields = replace(&fields_of(upload), "key", &escaping);
    let response = server.upload(upload, &fields, "x", b"hello".to_vec()).await;
    assert_eq!(response.status(), 201);
    assert!(!dir.parent().unwrap().join("escaped.txt").exists());
    let mut found = Vec::new();
    for entry in walk(&dir) {
        found.push(entry);
    }
    assert!(found.iter().all(|path| path.starts_with(&dir)));
    assert!(server.exists(&escaping).await, "the object exists under its literal key");
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
    assert!(body.contains("x-amz-checksum-crc32"), "{body}");
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
