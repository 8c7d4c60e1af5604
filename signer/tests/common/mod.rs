//! The test harness: signers started on a free port with test settings (dev store or the
//! SeaweedFS `cargo xtask test` starts), and the client side of the protocol (sign, upload,
//! finalize). The store suite (`store_suite.rs`) and the finalize attacks run on it.

#![allow(dead_code)]

pub mod finalize_attacks;
pub mod gzip_suite;
pub mod s3_api;
pub mod store_suite;

pub use store_suite::*;

use std::time::Duration;

use clap::Parser;
use reqwest::multipart::{Form, Part};
use s3file_signer::config::{Cli, Settings};
use s3file_signer::upload_checksum::UploadChecksum;
use s3file_signer::AppState;
use serde_json::{json, Value};

pub struct Server {
    pub url: String,
    pub state: AppState,
    pub http: reqwest::Client,
}

/// Where a dev-mode server keeps its objects.
pub fn dev_store_dir(state: &AppState) -> std::path::PathBuf {
    match &state.config.store {
        s3file_signer::config::Store::Dev { dir } => dir.clone(),
        s3file_signer::config::Store::S3(_) => panic!("the server is not in dev mode"),
    }
}

pub fn settings(args: &[&str]) -> Settings {
    let mut argv = vec![
        "s3file-signer",
        "--listen",
        "127.0.0.1:0",
        "--secret-key",
        "test-secret-that-is-long-enough-0123456789",
    ];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv).expect("test settings parse").settings
}

pub fn dev_settings(extra: &[&str]) -> Settings {
    let dir = std::env::temp_dir().join(format!("s3file-test-{}", hex_id()));
    let dir = dir.to_str().unwrap().to_owned();
    let mut args = vec!["--dev", "--dev-store-dir", dir.as_str()];
    args.extend_from_slice(extra);
    settings(&args)
}

/// SeaweedFS started by `cargo xtask test`, described by its environment.
pub fn seaweedfs_settings(extra: &[&str]) -> Settings {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: these tests need SeaweedFS; run them with `cargo xtask test`")
        })
    };
    let (endpoint, bucket, access, secret, region) = (
        var("S3FILE_TEST_S3_ENDPOINT"),
        var("S3FILE_TEST_S3_BUCKET"),
        var("S3FILE_TEST_S3_ACCESS_KEY"),
        var("S3FILE_TEST_S3_SECRET_KEY"),
        var("S3FILE_TEST_S3_REGION"),
    );
    // Each test run gets its own prefixes, so runs against one bucket do not meet.
    let location = format!("media-{}", hex_id());
    let upload_path = format!("tmp/s3file-{}", hex_id());
    let mut args = vec![
        "--bucket-name",
        &bucket,
        "--endpoint-url",
        &endpoint,
        "--access-key-id",
        &access,
        "--secret-access-key",
        &secret,
        "--region-name",
        &region,
        "--addressing-style",
        "path",
        "--location",
        &location,
        "--upload-path",
        &upload_path,
    ];
    args.extend_from_slice(extra);
    settings(&args)
}

pub fn hex_id() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{:x}{:x}{n}", std::process::id(), nanos)
}

pub async fn start(settings: Settings) -> Server {
    start_built(settings, None).await
}

pub async fn start_with_credentials(
    settings: Settings,
    provider: aws_credential_types::provider::SharedCredentialsProvider,
) -> Server {
    start_built(settings, Some(provider)).await
}

async fn start_built(
    settings: Settings,
    provider: Option<aws_credential_types::provider::SharedCredentialsProvider>,
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::build_with_credentials(settings, addr, provider).await.expect("signer starts");
    let app = s3file_signer::app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { url: format!("http://{addr}"), state, http: reqwest::Client::new() }
}

pub struct Signed {
    pub response: Value,
}

impl Signed {
    pub fn file(&self, i: usize) -> &Value {
        &self.response["files"][i]
    }
    pub fn signature(&self) -> &str {
        self.response["signature"].as_str().unwrap()
    }
}

impl Server {
    pub async fn sign_raw(&self, body: Value) -> reqwest::Response {
        self.http.post(format!("{}/s3file/sign", self.url)).json(&body).send().await.unwrap()
    }

    pub async fn sign(&self, field: &str, files: &[(&str, u64, &str)]) -> Signed {
        let files: Vec<Value> = files
            .iter()
            .map(|(name, size, kind)| json!({"name": name, "size": size, "type": kind}))
            .collect();
        let response = self.sign_raw(json!({"field": field, "files": files})).await;
        assert_eq!(response.status(), 200, "sign failed");
        Signed { response: response.json().await.unwrap() }
    }

    /// The checksum field a POST of `bytes` carries, as the widget sends it for this signer's
    /// `S3FILE_CHECKSUM`; `None` when uploads carry none.
    pub fn post_checksum(&self, bytes: &[u8]) -> Option<(String, String)> {
        let checksum = self.state.config.uploads.checksum;
        let value = match checksum {
            UploadChecksum::Md5 => md5(bytes),
            UploadChecksum::Crc32 => crc32(bytes),
            UploadChecksum::Off => return None,
        };
        Some((checksum.post_field()?.to_owned(), value))
    }

    /// POSTs `bytes` to the store the way the widget does, with `fields` (possibly altered) and
    /// the checksum of `bytes` the signer asks for, unless `fields` has that field already.
    pub async fn upload(
        &self,
        upload: &Value,
        fields: &[(String, String)],
        file_name: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        let mut form = Form::new();
        for (name, value) in fields {
            form = form.text(name.clone(), value.clone());
        }
        if let Some((field, value)) = self.post_checksum(&bytes) {
            if !fields.iter().any(|(name, _)| *name == field) {
                form = form.text(field, value);
            }
        }
        form = form.part("file", Part::bytes(bytes).file_name(file_name.to_owned()));
        self.http.post(upload["url"].as_str().unwrap()).multipart(form).send().await.unwrap()
    }

    pub async fn finalize(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}/s3file/finalize", self.url))
            .header("accept", "application/json")
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// A form posted to finalize as a browser without JavaScript posts it: `multipart/form-data`
    /// with the files' bytes.
    pub async fn finalize_multipart(&self, form: Form) -> reqwest::Response {
        let finalize = self.http.post(format!("{}/s3file/finalize", self.url));
        finalize.header("accept", "application/json").multipart(form).send().await.unwrap()
    }

    pub async fn exists(&self, key: &str) -> bool {
        self.state.storage.head(key).await.unwrap().is_some()
    }

    /// Where finalize stores the upload `upload_key`, by the signer's naming.
    pub fn final_key(&self, upload_key: &str) -> String {
        let config = &self.state.config;
        let key = s3file_signer::keys::UploadKey::parse(&config.uploads.path, upload_key).unwrap();
        config.finals.naming.final_key(&config.finals.location, key.folder_id(), key.name())
    }
}

/// The base64 MD5 of `bytes`, as `Content-MD5` carries it.
pub fn md5(bytes: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(bytes))
}

/// The base64 CRC-32 of `bytes`, as `x-amz-checksum-crc32` carries it.
pub fn crc32(bytes: &[u8]) -> String {
    use base64::Engine;
    let mut checksum = aws_smithy_checksums::ChecksumAlgorithm::Crc32.into_impl();
    checksum.update(bytes);
    base64::engine::general_purpose::STANDARD.encode(checksum.finalize())
}

pub fn fields_of(upload: &Value) -> Vec<(String, String)> {
    upload["fields"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

pub fn replace(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    fields.iter().map(|(n, v)| (n.clone(), if n == name { value.to_owned() } else { v.clone() })).collect()
}

pub async fn error_text(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}
