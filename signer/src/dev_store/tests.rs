//! The dev store over HTTP, driven by the signer's own SDK client and presigner: the S3
//! behaviour the shared suite (`signer/tests/common/s3_api.rs`) cannot assert because SeaweedFS
//! differs there, and what only the dev store can show (its files, its CORS answers).

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use base64::Engine;
use clap::Parser;
use md5::Digest as _;

use super::MIN_PART_SIZE;
use crate::config::Cli;
use crate::AppState;

struct Dev {
    state: AppState,
    dir: PathBuf,
    http: reqwest::Client,
}

async fn start() -> Dev {
    let dir =
        std::env::temp_dir().join(format!("s3file-dev-store-{}", hex::encode(rand::random::<[u8; 8]>())));
    let argv = [
        "s3file-signer",
        "--dev",
        "--listen",
        "127.0.0.1:0",
        "--secret-key",
        "test-secret-that-is-long-enough-0123456789",
        "--dev",
        "--dev-store-dir",
        dir.to_str().unwrap(),
    ];
    let settings = Cli::try_parse_from(argv).unwrap().settings;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let state = AppState::build(settings, listener.local_addr().unwrap()).await.unwrap();
    let app = crate::app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Dev { state, dir, http: reqwest::Client::new() }
}

fn minute() -> PresigningConfig {
    PresigningConfig::expires_in(Duration::from_secs(60)).unwrap()
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(md5::Md5::digest(bytes))
}

impl Dev {
    fn client(&self) -> &aws_sdk_s3::Client {
        &self.state.storage.client
    }

    fn bucket(&self) -> &str {
        &self.state.storage.bucket
    }

    async fn create(&self, key: &str) -> String {
        let created =
            self.client().create_multipart_upload().bucket(self.bucket()).key(key).send().await.unwrap();
        created.upload_id().unwrap().to_owned()
    }

    async fn presign_part(&self, key: &str, upload_id: &str, number: i32, length: u64) -> PresignedRequest {
        let storage = &self.state.storage;
        storage
            .presigner
            .upload_part()
            .bucket(&storage.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .content_length(length as i64)
            .presigned(minute())
            .await
            .unwrap()
    }

    /// A presigned PUT of `put.bin` and a presigned first part of a new upload of `part.bin`,
    /// both signing `length`: the two ways a browser sends bytes to the store.
    async fn put_and_part(&self, length: u64) -> [(&'static str, PresignedRequest); 2] {
        let storage = &self.state.storage;
        let put = storage
            .presigner
            .put_object()
            .bucket(&storage.bucket)
            .key("put.bin")
            .content_length(length as i64)
            .presigned(minute())
            .await
            .unwrap();
        let upload_id = self.create("part.bin").await;
        let part = self.presign_part("part.bin", &upload_id, 1, length).await;
        [("put", put), ("part", part)]
    }

    /// Sends a presigned request with its headers (but the length, which follows the body).
    async fn send(
        &self,
        request: &PresignedRequest,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(request.method().as_bytes()).unwrap();
        let mut builder = self.http.request(method, request.uri());
        for (name, value) in request.headers().filter(|(name, _)| *name != "content-length") {
            builder = builder.header(name, value);
        }
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        builder.body(body).send().await.unwrap()
    }

    async fn put_part(&self, key: &str, upload_id: &str, number: i32, body: &[u8]) -> String {
        let request = self.presign_part(key, upload_id, number, body.len() as u64).await;
        let response = self.send(&request, body.to_vec(), &[]).await;
        assert_eq!(response.status(), 200);
        response.headers()["etag"].to_str().unwrap().to_owned()
    }

    async fn complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[(i32, &str)],
    ) -> Result<String, (Option<u16>, Option<String>)> {
        let parts = parts
            .iter()
            .map(|(number, etag)| CompletedPart::builder().part_number(*number).e_tag(*etag).build())
            .collect();
        let result = self
            .client()
            .complete_multipart_upload()
            .bucket(self.bucket())
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await;
        result.map(|done| done.e_tag().unwrap().to_owned()).map_err(|error| {
            (error.raw_response().map(|r| r.status().as_u16()), error.code().map(str::to_owned))
        })
    }

    /// The files under the store's directory, relative to it.
    fn files(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, found);
                } else {
                    found.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.dir, &self.dir, &mut found);
        found.sort();
        found
    }

    /// The files under the store's directory once `wanted` holds of them; fails after ten
    /// seconds.
    async fn files_once(&self, wanted: impl Fn(&[String]) -> bool) -> Vec<String> {
        for _ in 0..500 {
            let files = self.files();
            if wanted(&files) {
                return files;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the store's files stayed {:?}", self.files());
    }
}

async fn text(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn completing_and_aborting_leave_no_parts_behind() {
    let dev = start().await;
    // A key that would climb out of the store, were keys paths. (Through the SDK: URL parsers,
    // browsers' and reqwest's, resolve the dots of a presigned URL before sending it.)
    let key = "tmp/../../../../escaped.bin";
    let upload_id = dev.create(key).await;
    let part = dev
        .client()
        .upload_part()
        .bucket(dev.bucket())
        .key(key)
        .upload_id(&upload_id)
        .part_number(1)
        .body(b"hello".to_vec().into())
        .send()
        .await
        .unwrap();
    let etag = part.e_tag().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", md5_hex(b"hello")));
    assert!(dev.files().iter().any(|file| file.starts_with("s3file-dev/.uploads/")), "{:?}", dev.files());
    dev.complete(key, &upload_id, &[(1, &etag)]).await.unwrap();
    let files = dev.files();
    assert_eq!(files.len(), 2, "an object and its metadata, no parts: {files:?}");
    assert!(files.iter().all(|file| !file.contains(".uploads") && !file.contains(".incoming")));
    assert!(!dev.dir.parent().unwrap().join("escaped.bin").exists());

    let aborted = dev.create("aborted.bin").await;
    dev.put_part("aborted.bin", &aborted, 1, b"hello").await;
    dev.client()
        .abort_multipart_upload()
        .bucket(dev.bucket())
        .key("aborted.bin")
        .upload_id(&aborted)
        .send()
        .await
        .unwrap();
    assert_eq!(dev.files(), files);
    // S3 answers a second abort with NoSuchUpload (SeaweedFS with 204).
    let again = dev
        .client()
        .abort_multipart_upload()
        .bucket(dev.bucket())
        .key("aborted.bin")
        .upload_id(&aborted)
        .send()
        .await;
    let error = again.unwrap_err();
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(404));
    assert_eq!(error.code(), Some("NoSuchUpload"));
}

#[tokio::test]
async fn every_part_but_the_last_holds_the_minimum_and_parts_can_be_sent_again() {
    let dev = start().await;
    let key = "minimum.bin";
    let upload_id = dev.create(key).await;
    let short = vec![1u8; MIN_PART_SIZE as usize - 1];
    let short_etag = dev.put_part(key, &upload_id, 1, &short).await;
    let last_etag = dev.put_part(key, &upload_id, 2, b"last").await;
    let refused = dev.complete(key, &upload_id, &[(1, &short_etag), (2, &last_etag)]).await;
    assert_eq!(refused, Err((Some(400), Some("EntityTooSmall".to_owned()))));
    // Part 1 again, now of the minimum size: it replaces the short one.
    let full = vec![2u8; MIN_PART_SIZE as usize];
    let full_etag = dev.put_part(key, &upload_id, 1, &full).await;
    let stale = dev.complete(key, &upload_id, &[(1, &short_etag), (2, &last_etag)]).await;
    assert_eq!(stale, Err((Some(400), Some("InvalidPart".to_owned()))));
    let etag = dev.complete(key, &upload_id, &[(1, &full_etag), (2, &last_etag)]).await.unwrap();
    let mut md5s = md5::Md5::digest(&full).to_vec();
    md5s.extend(md5::Md5::digest(b"last"));
    assert_eq!(etag, format!("\"{}-2\"", md5_hex(&md5s)));
    let head = dev.client().head_object().bucket(dev.bucket()).key(key).send().await.unwrap();
    assert_eq!(head.content_length(), Some(MIN_PART_SIZE as i64 + 4));
    assert_eq!(head.e_tag(), Some(etag.as_str()));
}

#[tokio::test]
async fn refusals_carry_s3s_codes_where_seaweedfs_differs() {
    struct Refusal {
        case: &'static str,
        part_number: i32,
        extra_headers: &'static [(&'static str, &'static str)],
        status: u16,
        body_says: &'static [&'static str],
    }
    let cases = [
        Refusal {
            case: "a part number over 10,000",
            part_number: 10_001,
            extra_headers: &[],
            status: 400,
            body_says: &["<Code>InvalidArgument</Code>"],
        },
        Refusal {
            case: "a header the URL does not sign",
            part_number: 1,
            extra_headers: &[("x-amz-meta-owner", "mallory")],
            status: 403,
            body_says: &[
                "<Code>AccessDenied</Code>",
                "headers present in the request which were not signed: x-amz-meta-owner",
            ],
        },
    ];
    let dev = start().await;
    let key = "codes.bin";
    let upload_id = dev.create(key).await;
    for refusal in cases {
        let case = refusal.case;
        let request = dev.presign_part(key, &upload_id, refusal.part_number, 5).await;
        let (status, body) = text(dev.send(&request, b"hello".to_vec(), refusal.extra_headers).await).await;
        assert_eq!(status, refusal.status, "{case}: {body}");
        for words in refusal.body_says {
            assert!(body.contains(words), "{case}: {body}");
        }
    }
}

/// CopyObject takes `COPY` or `REPLACE` as its metadata directive, and nothing else.
#[tokio::test]
async fn an_unknown_metadata_directive_is_refused() {
    use aws_sdk_s3::types::MetadataDirective;
    let dev = start().await;
    dev.client()
        .put_object()
        .bucket(dev.bucket())
        .key("source.txt")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .unwrap();
    let refused = dev
        .client()
        .copy_object()
        .bucket(dev.bucket())
        .copy_source("s3file-dev/source.txt")
        .key("copy.txt")
        .metadata_directive(MetadataDirective::from("MOVE"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("InvalidArgument"), "{refused:?}");
    let head = dev.client().head_object().bucket(dev.bucket()).key("copy.txt").send().await;
    assert!(head.is_err(), "nothing was copied");
}

#[tokio::test]
async fn copied_parts_answer_their_md5() {
    let dev = start().await;
    dev.client()
        .put_object()
        .bucket(dev.bucket())
        .key("source.txt")
        .body(b"0123456789".to_vec().into())
        .send()
        .await
        .unwrap();
    let upload_id = dev.create("copy.txt").await;
    let copied = dev
        .client()
        .upload_part_copy()
        .bucket(dev.bucket())
        .key("copy.txt")
        .upload_id(&upload_id)
        .part_number(1)
        .copy_source("s3file-dev/source.txt")
        .copy_source_range("bytes=2-5")
        .send()
        .await
        .unwrap();
    let etag = copied.copy_part_result().unwrap().e_tag().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", md5_hex(b"2345")));
    let beyond = dev
        .client()
        .upload_part_copy()
        .bucket(dev.bucket())
        .key("copy.txt")
        .upload_id(&upload_id)
        .part_number(2)
        .copy_source("s3file-dev/source.txt")
        .copy_source_range("bytes=5-10")
        .send()
        .await;
    assert_eq!(beyond.unwrap_err().code(), Some("InvalidArgument"));
    dev.complete("copy.txt", &upload_id, &[(1, &etag)]).await.unwrap();
    let object = dev.client().get_object().bucket(dev.bucket()).key("copy.txt").send().await.unwrap();
    assert_eq!(&object.body.collect().await.unwrap().into_bytes()[..], b"2345");
}

#[tokio::test]
async fn browsers_may_put_and_read_the_etag_from_any_origin() {
    let dev = start().await;
    let upload_id = dev.create("cors.bin").await;
    let request = dev.presign_part("cors.bin", &upload_id, 1, 5).await;
    let preflight = dev
        .http
        .request(reqwest::Method::OPTIONS, request.uri())
        .header("origin", "http://app.example")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type,x-amz-checksum-sha256")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("PUT"));
    assert_eq!(headers["access-control-allow-headers"], "content-type,x-amz-checksum-sha256");
    let put = dev.send(&request, b"hello".to_vec(), &[("origin", "http://app.example")]).await;
    assert_eq!(put.status(), 200);
    assert_eq!(put.headers()["access-control-allow-origin"], "*");
    assert_eq!(put.headers()["access-control-expose-headers"], "ETag");
}

#[tokio::test]
async fn every_s3_checksum_of_a_part_is_checked_and_echoed() {
    let dev = start().await;
    let key = "crc.bin";
    let upload_id = dev.create(key).await;
    let storage = &dev.state.storage;
    let base64 = base64::engine::general_purpose::STANDARD;
    let presign = |checksum: String| {
        storage
            .presigner
            .upload_part()
            .bucket(&storage.bucket)
            .key(key)
            .upload_id(&upload_id)
            .part_number(1)
            .checksum_crc32_c(checksum)
            .presigned(minute())
    };
    let wrong = presign(base64.encode(0u32.to_be_bytes())).await.unwrap();
    let (status, body) = text(dev.send(&wrong, b"hello".to_vec(), &[]).await).await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>BadDigest</Code>") && body.contains("CRC32C"), "{body}");
    let right_value = base64.encode(0x9a71_bb4cu32.to_be_bytes());
    let right = presign(right_value.clone()).await.unwrap();
    let response = dev.send(&right, b"hello".to_vec(), &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-amz-checksum-crc32c"], right_value.as_str());
}

#[tokio::test]
async fn uploads_are_listed_by_key_a_page_at_a_time() {
    let dev = start().await;
    let first = dev.create("p/a").await;
    let second = dev.create("p/a").await;
    let third = dev.create("p/b").await;
    dev.create("q/c").await;
    let list = |key_marker: Option<&str>, id_marker: Option<&str>| {
        dev.client()
            .list_multipart_uploads()
            .bucket(dev.bucket())
            .prefix("p/")
            .max_uploads(2)
            .set_key_marker(key_marker.map(str::to_owned))
            .set_upload_id_marker(id_marker.map(str::to_owned))
            .send()
    };
    let page = list(None, None).await.unwrap();
    let ids = |page: &aws_sdk_s3::operation::list_multipart_uploads::ListMultipartUploadsOutput| {
        page.uploads().iter().map(|u| u.upload_id().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&page), [first.clone(), second.clone()]);
    assert_eq!(page.is_truncated(), Some(true));
    assert_eq!((page.next_key_marker(), page.next_upload_id_marker()), (Some("p/a"), Some(second.as_str())));
    let next = list(page.next_key_marker(), page.next_upload_id_marker()).await.unwrap();
    assert_eq!(ids(&next), [third]);
    assert_eq!(next.is_truncated(), Some(false));
    assert!(page.uploads()[0].initiated().is_some());
}

const MIB: u64 = 1024 * 1024;

/// A stored `Content-Disposition` is served as it is, except that it cannot make a type that
/// could run on the signer's origin show inline.
#[tokio::test]
async fn a_stored_inline_disposition_does_not_make_active_content_inline() {
    let dev = start().await;
    let cases = [
        ("drawing.svg", "image/svg+xml", "inline", "attachment"),
        ("page.html", "TEXT/HTML; charset=utf-8", "inline; filename=\"page.html\"", "attachment"),
        (
            "notes.txt",
            "text/plain; charset=utf-8",
            "inline; filename=\"notes.txt\"",
            "inline; filename=\"notes.txt\"",
        ),
    ];
    for (key, kind, stored, served) in cases {
        dev.client()
            .put_object()
            .bucket(dev.bucket())
            .key(key)
            .content_type(kind)
            .content_disposition(stored)
            .body(b"<svg onload=alert(1)>".to_vec().into())
            .send()
            .await
            .unwrap();
        let url = dev.state.storage.presigner.get_object().bucket(dev.bucket()).key(key).presigned(minute());
        let url = url.await.unwrap().uri().to_owned();
        for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
            let response = dev.http.request(method.clone(), &url).send().await.unwrap();
            assert_eq!(response.status(), 200, "{key} {method}");
            let headers = response.headers();
            assert_eq!(
                headers.get_all("content-disposition").iter().collect::<Vec<_>>(),
                [served],
                "{key} {method}"
            );
            assert_eq!(headers["x-content-type-options"], "nosniff", "{key} {method}");
            assert_eq!(headers["content-security-policy"], "sandbox", "{key} {method}");
        }
    }
}

#[tokio::test]
async fn forged_puts_and_parts_are_refused_before_their_body_is_read() {
    let dev = start().await;
    let total = 64 * MIB;
    for (case, request) in dev.put_and_part(total).await {
        let forged = forge_signature(request.uri());
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let response = dev
            .http
            .put(&forged)
            .header("content-length", total)
            .body(counted_body(total, sent.clone()))
            .send();
        let response = tokio::time::timeout(Duration::from_secs(30), response).await.unwrap().unwrap();
        let (status, body) = text(response).await;
        assert_eq!(status, 403, "{case}: {body}");
        assert!(body.contains("<Code>SignatureDoesNotMatch</Code>"), "{case}: {body}");
        let sent = sent.load(std::sync::atomic::Ordering::SeqCst);
        assert!(sent < total / 4, "{case}: the store took {sent} bytes before refusing");
        let files = dev.files();
        assert!(files.iter().all(|file| file.ends_with("upload.json")), "{case}: {files:?}");
    }
}

#[tokio::test]
async fn a_put_or_part_abandoned_midway_leaves_no_staged_file() {
    let dev = start().await;
    for (case, request) in dev.put_and_part(MIB).await {
        let (feed, chunks) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(1);
        let body = futures_util::stream::unfold(chunks, |mut chunks| async move {
            chunks.recv().await.map(|chunk| (chunk, chunks))
        });
        let sending = dev
            .http
            .put(request.uri())
            .header("content-length", MIB)
            .body(reqwest::Body::wrap_stream(body))
            .send();
        let sending = tokio::spawn(sending);
        feed.send(Ok(vec![1; (MIB / 2) as usize])).await.unwrap();
        let staged = dev.files_once(|files| files.iter().any(|file| file.contains(".incoming"))).await;
        let staged: Vec<_> = staged.iter().filter(|file| file.contains(".incoming")).collect();
        assert_eq!(staged.len(), 1, "{case}: {staged:?}");
        assert_private(&dev.dir.join(staged[0]));
        let _ = feed.send(Err(std::io::Error::other("tab closed"))).await;
        let _ = sending.await;
        let files = dev.files_once(|files| files.iter().all(|file| !file.contains(".incoming"))).await;
        assert!(files.iter().all(|file| file.ends_with("upload.json")), "{case}: {files:?}");
    }
}

/// The presigned URL with a signature of the right shape that is not the URL's.
fn forge_signature(uri: &str) -> String {
    let (signed, signature) = uri.split_once("X-Amz-Signature=").unwrap();
    format!("{signed}X-Amz-Signature={}", "0".repeat(signature.len()))
}

/// A streamed body of `total` bytes, made as the client sends it; `sent` counts what it took.
fn counted_body(total: u64, sent: std::sync::Arc<std::sync::atomic::AtomicU64>) -> reqwest::Body {
    use futures_util::StreamExt;
    const CHUNK: u64 = 64 * 1024;
    let chunks = futures_util::stream::iter(0..total.div_ceil(CHUNK)).map(move |index| {
        let length = CHUNK.min(total - index * CHUNK);
        sent.fetch_add(length, std::sync::atomic::Ordering::SeqCst);
        Ok::<_, std::io::Error>(vec![b'a'; length as usize])
    });
    reqwest::Body::wrap_stream(chunks)
}

fn assert_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} is mode {mode:o}", path.display());
}
