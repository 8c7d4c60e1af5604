//! The S3 API behind the multipart and PUT upload modes, checked the same way against the dev
//! store and SeaweedFS: the signer's SDK client (`state.storage.client`, header signatures)
//! creates, lists, completes and aborts; URLs from its presigner (`state.storage.presigner`,
//! query-string signatures) carry the bytes, sent with reqwest as a browser sends them.
//!
//! Only what both stores do is asserted. Where they differ, the dev store does what S3 does, a
//! comment says what SeaweedFS does, and the dev store's own tests check the S3 behaviour.

use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::operation::upload_part::builders::UploadPartFluentBuilder;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use base64::Engine;
use md5::Digest as _;
use s3file_signer::dev_store::MIN_PART_SIZE;
use sha2::Digest as _;

use super::{hex_id, Server};

/// Declares one `#[tokio::test]` per check of the S3 API suite, each on a fresh signer whose
/// settings come from `$settings(&[])`.
#[macro_export]
macro_rules! s3_api_suite {
    ($settings:ident) => {
        $crate::s3_api_suite!($settings;
            multipart_upload_through_presigned_part_urls;
            aborted_upload_is_gone;
            complete_checks_order_etags_and_part_sizes;
            unknown_upload_ids_are_no_such_upload;
            part_numbers_run_from_1_to_10000;
            presigned_put_stores_the_object;
            presigned_urls_bind_the_signed_length;
            expired_presigned_urls_are_refused;
            tampered_presigned_urls_are_refused;
            unsigned_amz_headers_are_refused;
            content_md5_and_sha256_of_puts_and_parts_are_checked;
            browsers_may_put_parts_across_origins;
            upload_part_copy_copies_byte_ranges;
            copy_object_keeps_or_replaces_the_stored_headers;
        );
    };
    ($settings:ident; $($name:ident;)*) => {$(
        #[tokio::test]
        async fn $name() {
            common::s3_api::$name(common::start(common::$settings(&[])).await).await;
        }
    )*};
}

const MINUTE: Duration = Duration::from_secs(60);

/// A fresh key under the server's upload folder (SeaweedFS's bucket is shared by every test).
fn fresh_key(server: &Server, name: &str) -> String {
    format!("{}/{}/{name}", server.state.config.uploads.path, hex_id())
}

/// Bytes that differ with `seed` and along their length, so a misplaced part changes digests.
fn bytes(len: u64, seed: u64) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(md5::Md5::digest(bytes))
}

fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// S3's ETag of an object made of parts with these ETags (unquoted hex MD5s).
fn multipart_etag(part_etags: &[&str]) -> String {
    let mut md5s = Vec::new();
    for etag in part_etags {
        md5s.extend(hex::decode(etag).unwrap());
    }
    format!("\"{}-{}\"", md5_hex(&md5s), part_etags.len())
}

fn expiring_in(expires: Duration) -> PresigningConfig {
    PresigningConfig::expires_in(expires).unwrap()
}

/// What the store answered a presigned request with.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn etag(&self) -> &str {
        self.headers.get("etag").map(|v| v.to_str().unwrap()).unwrap_or_default()
    }

    /// The `<Code>` of an S3 error body.
    fn code(&self) -> &str {
        self.body
            .split_once("<Code>")
            .and_then(|(_, rest)| rest.split_once("</Code>"))
            .map_or("", |(code, _)| code)
    }
}

/// Sends a presigned request as a browser's XHR does: the headers the presigner asks for, except
/// `content-length`, which the browser computes from the body; then `extra` headers.
async fn send(server: &Server, request: &PresignedRequest, body: Vec<u8>, extra: &[(&str, &str)]) -> Answer {
    let method = reqwest::Method::from_bytes(request.method().as_bytes()).unwrap();
    let mut builder = server.http.request(method, request.uri());
    for (name, value) in request.headers() {
        if !name.eq_ignore_ascii_case("content-length") {
            builder = builder.header(name, value);
        }
    }
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    let response = builder.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Answer { status, headers, body: response.text().await.unwrap() }
}

async fn create(server: &Server, key: &str) -> String {
    let storage = &server.state.storage;
    let created =
        storage.client.create_multipart_upload().bucket(&storage.bucket).key(key).send().await.unwrap();
    created.upload_id().unwrap().to_owned()
}

/// A presigned UploadPart, signing the part's length when given (as the signer does).
async fn presign_part(
    server: &Server,
    key: &str,
    upload_id: &str,
    number: i32,
    length: Option<u64>,
    expires: Duration,
) -> PresignedRequest {
    let storage = &server.state.storage;
    storage
        .presigner
        .upload_part()
        .bucket(&storage.bucket)
        .key(key)
        .upload_id(upload_id)
        .part_number(number)
        .set_content_length(length.map(|length| length as i64))
        .presigned(expiring_in(expires))
        .await
        .unwrap()
}

/// Uploads a part through a presigned URL that signs its length; returns its quoted ETag.
async fn put_part(server: &Server, key: &str, upload_id: &str, number: i32, part: &[u8]) -> String {
    let request = presign_part(server, key, upload_id, number, Some(part.len() as u64), MINUTE).await;
    let answer = send(server, &request, part.to_vec(), &[]).await;
    assert_eq!(answer.status, 200, "part {number}: {}", answer.body);
    assert_eq!(answer.etag(), quoted(&md5_hex(part)), "a part's ETag is its quoted MD5");
    answer.etag().to_owned()
}

/// The status and S3 error code of a refused SDK request; `case` names it if it was accepted.
fn refused<T, E: ProvideErrorMetadata + std::fmt::Debug>(
    case: &str,
    result: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> (Option<u16>, Option<String>) {
    let Err(error) = result else { panic!("{case}: the store accepted what it should refuse") };
    let status = error.raw_response().map(|response| response.status().as_u16());
    (status, error.code().map(str::to_owned))
}

fn completed(parts: &[(i32, &str)]) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|(number, etag)| CompletedPart::builder().part_number(*number).e_tag(*etag).build())
                .collect(),
        ))
        .build()
}

async fn upload_ids_under(server: &Server, prefix: &str) -> Vec<String> {
    let storage = &server.state.storage;
    let listed =
        storage.client.list_multipart_uploads().bucket(&storage.bucket).prefix(prefix).send().await.unwrap();
    listed.uploads().iter().filter_map(|upload| upload.upload_id().map(str::to_owned)).collect()
}

async fn download(server: &Server, key: &str) -> aws_sdk_s3::operation::get_object::GetObjectOutput {
    let storage = &server.state.storage;
    storage.client.get_object().bucket(&storage.bucket).key(key).send().await.unwrap()
}

async fn exists(server: &Server, key: &str) -> bool {
    server.state.storage.head(key).await.unwrap().is_some()
}

// ---- the suite ----

/// The upload mode for large files, end to end: parts of S3's minimum size and a small last one,
/// each through a presigned URL, then listed, completed and read back.
pub async fn multipart_upload_through_presigned_part_urls(server: Server) {
    let storage = &server.state.storage;
    let key = fresh_key(&server, "big file.bin");
    let created = storage
        .client
        .create_multipart_upload()
        .bucket(&storage.bucket)
        .key(&key)
        .content_type("video/mp4")
        .cache_control("max-age=60")
        .metadata("project", "demo")
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap().to_owned();
    assert!(upload_ids_under(&server, &key).await.contains(&upload_id));

    let parts = [bytes(MIN_PART_SIZE, 1), bytes(MIN_PART_SIZE, 2), bytes(1234, 3)];
    let mut etags = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        etags.push(put_part(&server, &key, &upload_id, index as i32 + 1, part).await);
    }

    let listed = storage
        .client
        .list_parts()
        .bucket(&storage.bucket)
        .key(&key)
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap();
    let summary: Vec<(i32, String, i64)> = listed
        .parts()
        .iter()
        .map(|part| (part.part_number().unwrap(), part.e_tag().unwrap().to_owned(), part.size().unwrap()))
        .collect();
    let expected: Vec<(i32, String, i64)> =
        (0..3).map(|i| (i as i32 + 1, etags[i].clone(), parts[i].len() as i64)).collect();
    assert_eq!(summary, expected);
    assert_eq!(listed.is_truncated(), Some(false));

    let first_page = storage
        .client
        .list_parts()
        .bucket(&storage.bucket)
        .key(&key)
        .upload_id(&upload_id)
        .max_parts(2)
        .send()
        .await
        .unwrap();
    let numbers =
        |page: &[aws_sdk_s3::types::Part]| page.iter().map(|p| p.part_number().unwrap()).collect::<Vec<_>>();
    assert_eq!(numbers(first_page.parts()), [1, 2]);
    assert_eq!(first_page.is_truncated(), Some(true));
    assert_eq!(first_page.next_part_number_marker(), Some("2"));
    let second_page = storage
        .client
        .list_parts()
        .bucket(&storage.bucket)
        .key(&key)
        .upload_id(&upload_id)
        .max_parts(2)
        .part_number_marker("2")
        .send()
        .await
        .unwrap();
    assert_eq!(numbers(second_page.parts()), [3]);
    assert_eq!(second_page.is_truncated(), Some(false));

    let list: Vec<(i32, &str)> =
        etags.iter().enumerate().map(|(i, etag)| (i as i32 + 1, etag.as_str())).collect();
    let done = storage
        .client
        .complete_multipart_upload()
        .bucket(&storage.bucket)
        .key(&key)
        .upload_id(&upload_id)
        .multipart_upload(completed(&list))
        .send()
        .await
        .unwrap();
    let part_md5s: Vec<String> = parts.iter().map(|part| md5_hex(part)).collect();
    let part_md5s: Vec<&str> = part_md5s.iter().map(String::as_str).collect();
    assert_eq!(done.e_tag(), Some(multipart_etag(&part_md5s).as_str()));

    let object = download(&server, &key).await;
    assert_eq!(object.content_type(), Some("video/mp4"));
    assert_eq!(object.cache_control(), Some("max-age=60"));
    assert_eq!(object.metadata().and_then(|m| m.get("project")).map(String::as_str), Some("demo"));
    assert_eq!(object.e_tag(), done.e_tag());
    let downloaded = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(downloaded.len(), parts.iter().map(Vec::len).sum::<usize>());
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&downloaded)),
        hex::encode(sha2::Sha256::digest(parts.concat()))
    );

    // The upload is over: no longer listed, and takes no more parts.
    assert!(!upload_ids_under(&server, &key).await.contains(&upload_id));
    let late = presign_part(&server, &key, &upload_id, 4, None, MINUTE).await;
    let answer = send(&server, &late, b"late".to_vec(), &[]).await;
    assert_eq!((answer.status, answer.code()), (404, "NoSuchUpload"), "{}", answer.body);
}

pub async fn aborted_upload_is_gone(server: Server) {
    let storage = &server.state.storage;
    let key = fresh_key(&server, "aborted.bin");
    let upload_id = create(&server, &key).await;
    put_part(&server, &key, &upload_id, 1, b"some bytes").await;
    storage
        .client
        .abort_multipart_upload()
        .bucket(&storage.bucket)
        .key(&key)
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap();
    assert!(!upload_ids_under(&server, &key).await.contains(&upload_id));

    let request = presign_part(&server, &key, &upload_id, 2, Some(4), MINUTE).await;
    let answer = send(&server, &request, b"more".to_vec(), &[]).await;
    assert_eq!((answer.status, answer.code()), (404, "NoSuchUpload"), "{}", answer.body);
    let listed =
        storage.client.list_parts().bucket(&storage.bucket).key(&key).upload_id(&upload_id).send().await;
    assert_eq!(listed.unwrap_err().code(), Some("NoSuchUpload"));
    let completed = storage
        .client
        .complete_multipart_upload()
        .bucket(&storage.bucket)
        .key(&key)
        .upload_id(&upload_id)
        .multipart_upload(completed(&[(1, &quoted(&md5_hex(b"some bytes")))]))
        .send()
        .await;
    assert_eq!(completed.unwrap_err().code(), Some("NoSuchUpload"));
    assert!(!exists(&server, &key).await);
    // Aborting the same id again: S3 (and the dev store) answer 404 NoSuchUpload, SeaweedFS
    // 204, so it is not asserted here.
}

pub async fn complete_checks_order_etags_and_part_sizes(server: Server) {
    let storage = &server.state.storage;
    let key = fresh_key(&server, "checked.bin");
    let upload_id = create(&server, &key).await;
    let (one, two) = (bytes(1000, 10), bytes(1000, 20));
    let etag_one = put_part(&server, &key, &upload_id, 1, &one).await;
    let etag_two = put_part(&server, &key, &upload_id, 2, &two).await;
    let complete = |parts: &[(i32, &str)]| {
        storage
            .client
            .complete_multipart_upload()
            .bucket(&storage.bucket)
            .key(&key)
            .upload_id(&upload_id)
            .multipart_upload(completed(parts))
            .send()
    };
    let (etag_one, etag_two) = (etag_one.as_str(), etag_two.as_str());
    let refusals = [
        ("parts out of order", vec![(2, etag_two), (1, etag_one)], "InvalidPartOrder"),
        // One part at a time: with a small part first, SeaweedFS answers EntityTooSmall before
        // looking at ETags.
        ("another part's ETag", vec![(1, etag_two)], "InvalidPart"),
        ("a part never uploaded", vec![(3, etag_two)], "InvalidPart"),
        // Every part but the last must hold 5 MiB; both stores enforce it.
        ("a small part before the last", vec![(1, etag_one), (2, etag_two)], "EntityTooSmall"),
    ];
    for (case, parts, code) in refusals {
        let answer = complete(&parts).await;
        assert_eq!(refused(case, answer), (Some(400), Some(code.to_owned())), "{case}");
    }
    assert!(upload_ids_under(&server, &key).await.contains(&upload_id), "a refused list leaves the upload");

    // A small part may be the last, here the only one; part 1 is left out.
    let done = complete(&[(2, etag_two)]).await.unwrap();
    assert_eq!(done.e_tag(), Some(multipart_etag(&[&md5_hex(&two)]).as_str()));
    let downloaded = download(&server, &key).await.body.collect().await.unwrap().into_bytes();
    assert_eq!(downloaded.to_vec(), two);
}

pub async fn unknown_upload_ids_are_no_such_upload(server: Server) {
    let storage = &server.state.storage;
    let key = fresh_key(&server, "unknown.bin");
    let never = "0123456789abcdef0123456789abcdef";
    let listed = storage.client.list_parts().bucket(&storage.bucket).key(&key).upload_id(never).send().await;
    assert_eq!(listed.unwrap_err().code(), Some("NoSuchUpload"));
    let request = presign_part(&server, &key, never, 1, Some(5), MINUTE).await;
    let answer = send(&server, &request, b"hello".to_vec(), &[]).await;
    assert_eq!((answer.status, answer.code()), (404, "NoSuchUpload"), "{}", answer.body);
    // An upload id is bound to its key.
    let upload_id = create(&server, &key).await;
    let other_key = fresh_key(&server, "other.bin");
    let request = presign_part(&server, &other_key, &upload_id, 1, Some(5), MINUTE).await;
    let answer = send(&server, &request, b"hello".to_vec(), &[]).await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    storage
        .client
        .abort_multipart_upload()
        .bucket(&storage.bucket)
        .key(&key)
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap();
}

pub async fn part_numbers_run_from_1_to_10000(server: Server) {
    let key = fresh_key(&server, "numbers.bin");
    let upload_id = create(&server, &key).await;
    for number in [0, 10_001] {
        let request = presign_part(&server, &key, &upload_id, number, Some(5), MINUTE).await;
        let answer = send(&server, &request, b"hello".to_vec(), &[]).await;
        // S3 and the dev store say InvalidArgument; SeaweedFS says InvalidPart.
        assert_eq!(answer.status, 400, "part {number}: {}", answer.body);
    }
    put_part(&server, &key, &upload_id, 10_000, b"hello").await;
}

async fn presign_put(
    server: &Server,
    key: &str,
    content_type: &str,
    length: u64,
    expires: Duration,
) -> PresignedRequest {
    let storage = &server.state.storage;
    storage
        .presigner
        .put_object()
        .bucket(&storage.bucket)
        .key(key)
        .content_type(content_type)
        .content_length(length as i64)
        .presigned(expiring_in(expires))
        .await
        .unwrap()
}

/// The upload mode for stores without POST: one PUT of the whole file.
pub async fn presigned_put_stores_the_object(server: Server) {
    let key = fresh_key(&server, "put.txt");
    let body = b"a whole file in one PUT".to_vec();
    let request = presign_put(&server, &key, "text/plain", body.len() as u64, MINUTE).await;
    let signed: Vec<&str> = request.headers().map(|(name, _)| name).collect();
    assert!(signed.contains(&"content-type") && signed.contains(&"content-length"), "{signed:?}");
    let answer = send(&server, &request, body.clone(), &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.etag(), quoted(&md5_hex(&body)));
    let object = download(&server, &key).await;
    assert_eq!(object.content_type(), Some("text/plain"));
    assert_eq!(object.e_tag(), Some(quoted(&md5_hex(&body)).as_str()));
    assert_eq!(object.body.collect().await.unwrap().into_bytes().to_vec(), body);
}

pub async fn presigned_urls_bind_the_signed_length(server: Server) {
    let key = fresh_key(&server, "length.txt");
    let put = presign_put(&server, &key, "text/plain", 5, MINUTE).await;
    let multipart_key = fresh_key(&server, "length.bin");
    let upload_id = create(&server, &multipart_key).await;
    let part = presign_part(&server, &multipart_key, &upload_id, 1, Some(10), MINUTE).await;
    let cases = [
        ("a PUT signed for 5 bytes, sent 15", &put, b"hello, and more".to_vec()),
        ("a part signed for 10 bytes, sent 20", &part, bytes(20, 1)),
        ("a part signed for 10 bytes, sent 9", &part, bytes(9, 1)),
    ];
    for (case, request, body) in cases {
        let answer = send(&server, request, body, &[]).await;
        assert_eq!(answer.status, 403, "{case}: {}", answer.body);
    }
    assert!(!exists(&server, &key).await);
    let storage = &server.state.storage;
    let listed = storage
        .client
        .list_parts()
        .bucket(&storage.bucket)
        .key(&multipart_key)
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap();
    assert!(listed.parts().is_empty(), "no refused part is kept");
    let answer = send(&server, &part, bytes(10, 1), &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

pub async fn expired_presigned_urls_are_refused(server: Server) {
    let key = fresh_key(&server, "expired.txt");
    let put = presign_put(&server, &key, "text/plain", 5, Duration::from_secs(1)).await;
    let upload_id = create(&server, &key).await;
    let part = presign_part(&server, &key, &upload_id, 1, Some(5), Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    for (case, request) in [("PUT", put), ("part", part)] {
        let answer = send(&server, &request, b"hello".to_vec(), &[]).await;
        assert_eq!((answer.status, answer.code()), (403, "AccessDenied"), "{case}: {}", answer.body);
        assert!(answer.body.contains("Request has expired"), "{case}: {}", answer.body);
    }
    assert!(!exists(&server, &key).await);
}

pub async fn tampered_presigned_urls_are_refused(server: Server) {
    let key = fresh_key(&server, "tampered.txt");
    let request = presign_put(&server, &key, "text/plain", 5, MINUTE).await;
    let upload_id = create(&server, &key).await;
    let part = presign_part(&server, &key, &upload_id, 1, Some(5), MINUTE).await;
    let uri = request.uri().to_owned();
    let signature = uri.rsplit_once("X-Amz-Signature=").unwrap().1.to_owned();
    let flipped: String = signature.chars().rev().collect();
    let other_part = part.uri().replace("partNumber=1", "partNumber=2");
    assert_ne!(other_part, part.uri());
    // Each URL with the content type it is sent with ("" for none): one thing differs from
    // what was signed.
    let cases = [
        ("another signature", uri.replace(&signature, &flipped), "text/plain"),
        ("a longer expiry", uri.replace("X-Amz-Expires=60", "X-Amz-Expires=3600"), "text/plain"),
        ("another content type", uri.clone(), "text/html"),
        ("another part number", other_part, ""),
    ];
    for (case, url, content_type) in cases {
        let mut builder = server.http.put(&url).body("hello");
        if !content_type.is_empty() {
            builder = builder.header("content-type", content_type);
        }
        let response = builder.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_eq!(status, 403, "{case}: {url}: {body}");
        assert!(body.contains("<Code>SignatureDoesNotMatch</Code>"), "{case}: {url}: {body}");
    }
    assert!(!exists(&server, &key).await);
}

pub async fn unsigned_amz_headers_are_refused(server: Server) {
    let key = fresh_key(&server, "unsigned.txt");
    let request = presign_put(&server, &key, "text/plain", 5, MINUTE).await;
    let answer = send(&server, &request, b"hello".to_vec(), &[("x-amz-meta-owner", "mallory")]).await;
    // S3 and the dev store say AccessDenied ("There were headers present in the request which
    // were not signed"); SeaweedFS says SignatureDoesNotMatch.
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(!exists(&server, &key).await);
}

/// A digest of the body that a presigned PUT or part signs, for the store to check.
struct Digest {
    name: &'static str,
    /// The header that carries it.
    header: &'static str,
    /// The digest of `bytes`, as the header carries it.
    of: fn(&[u8]) -> String,
    put: fn(PutObjectFluentBuilder, String) -> PutObjectFluentBuilder,
    part: fn(UploadPartFluentBuilder, String) -> UploadPartFluentBuilder,
    /// Whether the store answers an accepted part with it (an `x-amz-checksum-*` comes back in
    /// its header; an MD5 comes back as the ETag, checked for every digest).
    echoed: bool,
}

/// Content-MD5, and SHA-256: the checksum a browser can compute (SubtleCrypto has SHA-256, not
/// MD5).
pub async fn content_md5_and_sha256_of_puts_and_parts_are_checked(server: Server) {
    let storage = &server.state.storage;
    let digests = [
        Digest {
            name: "Content-MD5",
            header: "content-md5",
            of: |bytes| base64(&md5::Md5::digest(bytes)),
            put: |put, md5| put.content_md5(md5),
            part: |part, md5| part.content_md5(md5),
            echoed: false,
        },
        Digest {
            name: "SHA-256",
            header: "x-amz-checksum-sha256",
            of: |bytes| base64(&sha2::Sha256::digest(bytes)),
            put: |put, checksum| put.checksum_sha256(checksum),
            part: |part, checksum| part.checksum_sha256(checksum),
            echoed: true,
        },
    ];
    for digest in digests {
        let name = digest.name;
        let key = fresh_key(&server, "checked.txt");
        let wrong = (digest.of)(b"something else");
        let right = (digest.of)(b"hello");
        let put = |value: String| {
            let put = storage.presigner.put_object().bucket(&storage.bucket).key(&key);
            (digest.put)(put, value).presigned(expiring_in(MINUTE))
        };
        let request = put(wrong.clone()).await.unwrap();
        let signed = request.headers().any(|(header, _)| header == digest.header);
        assert!(signed, "{name}: the checksum is signed");
        let answer = send(&server, &request, b"hello".to_vec(), &[]).await;
        // Both say BadDigest; SeaweedFS's message for SHA-256 speaks of Content-MD5.
        assert_eq!((answer.status, answer.code()), (400, "BadDigest"), "{name} PUT: {}", answer.body);
        assert!(!exists(&server, &key).await, "{name}");
        let answer = send(&server, &put(right.clone()).await.unwrap(), b"hello".to_vec(), &[]).await;
        assert_eq!(answer.status, 200, "{name} PUT: {}", answer.body);

        let upload_id = create(&server, &key).await;
        let part = |value: String| {
            let part = storage
                .presigner
                .upload_part()
                .bucket(&storage.bucket)
                .key(&key)
                .upload_id(&upload_id)
                .part_number(1)
                .content_length(5);
            (digest.part)(part, value).presigned(expiring_in(MINUTE))
        };
        let answer = send(&server, &part(wrong).await.unwrap(), b"hello".to_vec(), &[]).await;
        assert_eq!((answer.status, answer.code()), (400, "BadDigest"), "{name} part: {}", answer.body);
        let answer = send(&server, &part(right.clone()).await.unwrap(), b"hello".to_vec(), &[]).await;
        assert_eq!(answer.status, 200, "{name} part: {}", answer.body);
        assert_eq!(answer.etag(), quoted(&md5_hex(b"hello")), "{name}");
        if digest.echoed {
            let echoed = answer.headers.get(digest.header).map(|v| v.to_str().unwrap());
            assert_eq!(echoed, Some(right.as_str()), "{name}");
        }
        let listed = storage
            .client
            .list_parts()
            .bucket(&storage.bucket)
            .key(&key)
            .upload_id(&upload_id)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.parts().len(), 1, "{name}");
        assert_eq!(listed.parts()[0].e_tag(), Some(quoted(&md5_hex(b"hello")).as_str()), "{name}");
    }
}

/// A page on another origin PUTs parts with its own headers and reads the ETag.
pub async fn browsers_may_put_parts_across_origins(server: Server) {
    let key = fresh_key(&server, "cors.bin");
    let upload_id = create(&server, &key).await;
    let request = presign_part(&server, &key, &upload_id, 1, Some(5), MINUTE).await;
    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, request.uri())
        .header("origin", "http://app.example")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type,x-amz-checksum-sha256")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let header = |name: &str| {
        preflight.headers().get(name).map(|v| v.to_str().unwrap().to_ascii_lowercase()).unwrap_or_default()
    };
    let origin = header("access-control-allow-origin");
    assert!(origin == "*" || origin == "http://app.example", "{origin}");
    assert!(header("access-control-allow-methods").contains("put"));
    let allowed = header("access-control-allow-headers");
    assert!(
        allowed == "*" || (allowed.contains("content-type") && allowed.contains("x-amz-checksum-sha256")),
        "{allowed}"
    );
    // That the PUT's answer exposes ETag is checked for the dev store by its own tests; the
    // SeaweedFS bucket's CORS rules are changed for a moment by another test of that suite.
    let answer = send(&server, &request, b"hello".to_vec(), &[("origin", "http://app.example")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.headers.contains_key("access-control-allow-origin"));
}

/// Finalize copies objects larger than one CopyObject takes in parts, with UploadPartCopy.
pub async fn upload_part_copy_copies_byte_ranges(server: Server) {
    let storage = &server.state.storage;
    let source = fresh_key(&server, "source.bin");
    let original = bytes(MIN_PART_SIZE + 100, 7);
    storage
        .client
        .put_object()
        .bucket(&storage.bucket)
        .key(&source)
        .content_type("application/octet-stream")
        .body(original.clone().into())
        .send()
        .await
        .unwrap();
    let target = fresh_key(&server, "copy.bin");
    let upload_id = create(&server, &target).await;
    let copy_source = format!("{}/{}", storage.bucket, s3file_signer::keys::url_path(&source));
    let mut etags = Vec::new();
    for (number, range) in [
        (1, format!("bytes=0-{}", MIN_PART_SIZE - 1)),
        (2, format!("bytes={MIN_PART_SIZE}-{}", original.len() - 1)),
    ] {
        let copied = storage
            .client
            .upload_part_copy()
            .bucket(&storage.bucket)
            .key(&target)
            .upload_id(&upload_id)
            .part_number(number)
            .copy_source(&copy_source)
            .copy_source_range(range)
            .send()
            .await
            .unwrap();
        etags.push(copied.copy_part_result().and_then(|result| result.e_tag()).unwrap().to_owned());
    }
    // S3 (and the dev store) answer each copied part's quoted MD5. SeaweedFS answers unquoted
    // ETags that are not the MD5 of the range (the first one shaped like a multipart ETag), and
    // takes them back on complete: only that round trip is asserted here.
    storage
        .client
        .complete_multipart_upload()
        .bucket(&storage.bucket)
        .key(&target)
        .upload_id(&upload_id)
        .multipart_upload(completed(&[(1, &etags[0]), (2, &etags[1])]))
        .send()
        .await
        .unwrap();
    let downloaded = download(&server, &target).await.body.collect().await.unwrap().into_bytes();
    assert_eq!(hex::encode(sha2::Sha256::digest(&downloaded)), hex::encode(sha2::Sha256::digest(&original)));
}

/// CopyObject keeps the source's type and headers (`Content-Encoding` among them), unless
/// `x-amz-metadata-directive: REPLACE` gives the copy the request's own, and only those.
pub async fn copy_object_keeps_or_replaces_the_stored_headers(server: Server) {
    use aws_sdk_s3::types::MetadataDirective;
    let storage = &server.state.storage;
    let source = fresh_key(&server, "site.css");
    storage
        .client
        .put_object()
        .bucket(&storage.bucket)
        .key(&source)
        .content_type("text/css")
        .content_encoding("gzip")
        .cache_control("max-age=60")
        .body(bytes(100, 1).into())
        .send()
        .await
        .unwrap();
    let copy_source = format!("{}/{}", storage.bucket, s3file_signer::keys::url_path(&source));
    let head = |key: String| async move {
        let head = storage.client.head_object().bucket(&storage.bucket).key(key).send().await.unwrap();
        let text = |value: Option<&str>| value.map(str::to_owned);
        (text(head.content_type()), text(head.content_encoding()), text(head.cache_control()))
    };

    let kept = fresh_key(&server, "kept.css");
    let copy = storage.client.copy_object().bucket(&storage.bucket).copy_source(&copy_source).key(&kept);
    copy.send().await.unwrap();
    let expected = (Some("text/css".to_owned()), Some("gzip".to_owned()), Some("max-age=60".to_owned()));
    assert_eq!(head(kept.clone()).await, expected);
    assert_eq!(download(&server, &kept).await.body.collect().await.unwrap().to_vec(), bytes(100, 1));

    let replaced = fresh_key(&server, "replaced.css");
    storage
        .client
        .copy_object()
        .bucket(&storage.bucket)
        .copy_source(&copy_source)
        .key(&replaced)
        .metadata_directive(MetadataDirective::Replace)
        .content_type("text/plain")
        .content_encoding("identity")
        .send()
        .await
        .unwrap();
    assert_eq!(head(replaced).await, (Some("text/plain".to_owned()), Some("identity".to_owned()), None));
}
