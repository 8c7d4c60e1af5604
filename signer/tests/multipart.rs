//! Multipart uploads, presigned PUTs and the sweep, through the signer's HTTP API as the widget
//! drives them, against the dev store and SeaweedFS (started by `cargo xtask test`).
//!
//! Files here are small (parts of 5 MiB, S3's minimum): the thresholds are lowered by settings.

mod common;

use common::Server;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const MIB: u64 = 1024 * 1024;
/// Multipart above 6 MiB, in parts of 5 MiB.
const MULTIPART: &[&str] = &["--multipart-threshold", "6291456", "--multipart-part-size", "5242880"];

fn random_bytes(len: u64) -> Vec<u8> {
    // A cheap xorshift: varied enough that a misplaced part changes the digest.
    let mut state = 0x2545_f491_4f6c_dd1d_u64 ^ len;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The CRC-64/NVME of `bytes` as S3 writes it (big-endian, base64), by the `crc` crate.
fn crc64nvme(bytes: &[u8]) -> String {
    use base64::Engine;
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_NVME).checksum(bytes);
    base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
}

/// Each part's CRC-64/NVME, as the widget sends them with `complete`.
fn part_crcs(file: &Value, bytes: &[u8]) -> Vec<String> {
    let part_size = file["multipart"]["partSize"].as_u64().unwrap() as usize;
    bytes.chunks(part_size).map(crc64nvme).collect()
}

async fn complete_with(server: &Server, file: &Value, crcs: &[String]) -> reqwest::Response {
    let mut body = upload_ref(file);
    body["crc64nvme"] = json!(crcs);
    post(server, "/s3file/complete", body).await
}

async fn post(server: &Server, path: &str, body: Value) -> reqwest::Response {
    server.http.post(format!("{}{path}", server.url)).json(&body).send().await.unwrap()
}

async fn sign_body(server: &Server, body: Value) -> Value {
    let response = post(server, "/s3file/sign", body).await;
    assert_eq!(response.status(), 200, "sign failed");
    response.json().await.unwrap()
}

/// The reference to the upload that `parts`, `complete` and `abort` take.
fn upload_ref(file: &Value) -> Value {
    let multipart = &file["multipart"];
    json!({"key": file["key"], "uploadId": multipart["uploadId"], "ticket": multipart["ticket"]})
}

async fn part_urls(server: &Server, file: &Value, parts: &[u64]) -> Vec<Value> {
    let mut body = upload_ref(file);
    body["parts"] = json!(parts);
    let response = post(server, "/s3file/parts", body).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    answer["parts"].as_array().unwrap().clone()
}

/// PUTs `bytes` to a presigned request as a browser's XHR would: its headers, its body.
async fn put(server: &Server, request: &Value, bytes: Vec<u8>) -> reqwest::Response {
    let mut put = server.http.put(request["url"].as_str().unwrap()).body(bytes);
    for pair in request["headers"].as_array().unwrap() {
        put = put.header(pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
    }
    put.send().await.unwrap()
}

/// Sends the given parts of `bytes`, all at once.
async fn send_parts(server: &Server, file: &Value, bytes: &[u8], parts: &[u64]) {
    let part_size = file["multipart"]["partSize"].as_u64().unwrap();
    let urls = part_urls(server, file, parts).await;
    let sends = urls.iter().map(|url| {
        let n = url["n"].as_u64().unwrap();
        let start = ((n - 1) * part_size) as usize;
        let end = (start + part_size as usize).min(bytes.len());
        put(server, url, bytes[start..end].to_vec())
    });
    for response in futures_util::future::join_all(sends).await {
        assert_eq!(response.status(), 200, "part upload: {:?}", response.text().await);
    }
}

async fn complete(server: &Server, file: &Value) -> reqwest::Response {
    post(server, "/s3file/complete", upload_ref(file)).await
}

async fn finalize(server: &Server, signed: &Value, file: &Value) -> Value {
    let signature = signed["signature"].as_str().unwrap();
    let key = file["key"].as_str().unwrap();
    let response =
        server.finalize(&[("s3file", "file"), ("file", key), ("file-s3f-signature", signature)]).await;
    assert_eq!(response.status(), 200, "finalize failed");
    let finalized: Value = response.json().await.unwrap();
    finalized["files"]["file"][0].clone()
}

async fn download(server: &Server, key: &str) -> Vec<u8> {
    let object =
        server.state.storage.client.get_object().bucket(&server.state.storage.bucket).key(key).send();
    object.await.unwrap().body.collect().await.unwrap().into_bytes().to_vec()
}

async fn pending_keys(server: &Server) -> Vec<String> {
    let prefix = format!("{}/", server.state.config.uploads.path);
    server
        .state
        .storage
        .pending_uploads(&prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|upload| upload.key)
        .collect()
}

macro_rules! both_stores {
    ($($name:ident $(with $args:expr)?;)*) => {
        mod dev_store {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    #[allow(unused_mut, unused_assignments)]
                    let mut args: Vec<&str> = MULTIPART.to_vec();
                    $(args.extend_from_slice($args);)?
                    super::$name(common::start(common::dev_settings(&args)).await).await;
                }
            )*
        }
        mod seaweedfs {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    #[allow(unused_mut, unused_assignments)]
                    let mut args: Vec<&str> = MULTIPART.to_vec();
                    $(args.extend_from_slice($args);)?
                    super::$name(common::start(common::seaweedfs_settings(&args)).await).await;
                }
            )*
        }
    };
}

both_stores! {
    a_multipart_upload_is_completed_and_finalized;
    complete_names_the_missing_parts;
    the_store_checks_the_whole_object_checksum_at_completion;
    malformed_part_checksums_are_refused_and_change_nothing;
    without_checksums_uploads_take_no_whole_object_checksum with &["--checksum", "off"];
    a_part_of_another_length_is_refused;
    tickets_bind_the_key_the_upload_and_the_parts;
    abort_leaves_no_upload_behind;
    resume_carries_on_with_the_parts_s3_has;
    resume_with_a_forged_folder_starts_over;
    finalize_copies_large_objects_in_parts with &["--multipart-copy-threshold", "5242880"];
    put_mode_uploads_small_files_with_a_presigned_put with &["--upload-method", "put"];
    sweep_aborts_unfinished_uploads;
}

async fn a_multipart_upload_is_completed_and_finalized(server: Server) {
    let bytes = random_bytes(12 * MIB + 3);
    let signed = sign_body(
        &server,
        json!({"field": "file", "files": [
            {"name": "film.bin", "size": bytes.len(), "type": "application/octet-stream"},
            {"name": "small.txt", "size": 5, "type": "text/plain"},
        ]}),
    )
    .await;
    let file = &signed["files"][0];
    assert_eq!(file["multipart"]["partCount"], 3, "{file}");
    assert_eq!(file["multipart"]["partSize"], 5 * MIB);
    assert_eq!(file["multipart"]["done"], json!([]));
    assert!(file.get("url").is_none() && file.get("fields").is_none());
    // Below the threshold, files still get a POST policy.
    assert!(signed["files"][1]["fields"].is_object() && signed["files"][1].get("multipart").is_none());

    send_parts(&server, file, &bytes, &[3, 1, 2]).await;
    let completed = complete(&server, file).await;
    assert_eq!(completed.status(), 200);
    let completed: Value = completed.json().await.unwrap();
    assert_eq!(completed["size"], bytes.len() as u64);
    // A retried complete (its answer lost) succeeds again.
    assert_eq!(complete(&server, file).await.status(), 200);

    assert_eq!(completed["crc64nvme"], Value::Null, "the browser sent no checksums");
    let stored = finalize(&server, &signed, file).await;
    assert_eq!(stored["size"], bytes.len() as u64);
    assert_eq!(stored["content_type"], "application/octet-stream");
    // Created with its CRC-64/NVME, the upload got one from the store all the same.
    assert_eq!(stored["crc64nvme"], json!(crc64nvme(&bytes)));
    let etag = stored["etag"].as_str().unwrap_or_default();
    assert!(etag.len() >= 32 && etag.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'), "{etag}");
    assert_eq!(sha256(&download(&server, stored["key"].as_str().unwrap()).await), sha256(&bytes));
    assert!(!server.exists(file["key"].as_str().unwrap()).await, "the upload was moved, not copied");
}

async fn complete_names_the_missing_parts(server: Server) {
    let bytes = random_bytes(12 * MIB);
    let signed =
        sign_body(&server, json!({"field": "file", "files": [{"name": "a.bin", "size": bytes.len()}]})).await;
    let file = &signed["files"][0];
    send_parts(&server, file, &bytes, &[2]).await;
    let (status, text) = common::error_text(complete(&server, file).await).await;
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("parts 1, 3 are still missing"), "{text}");
    // Nothing became an object, and the upload can still be finished.
    assert!(!server.exists(file["key"].as_str().unwrap()).await);
    send_parts(&server, file, &bytes, &[1, 3]).await;
    assert_eq!(complete(&server, file).await.status(), 200);
}

async fn the_store_checks_the_whole_object_checksum_at_completion(server: Server) {
    let bytes = random_bytes(12 * MIB + 5);
    let description = json!({"field": "file", "files": [{"name": "whole.bin", "size": bytes.len()}]});
    let signed = sign_body(&server, description.clone()).await;
    let file = &signed["files"][0];
    send_parts(&server, file, &bytes, &[1, 2, 3]).await;
    // The browser read other bytes for part 2 than the store holds.
    let mut crcs = part_crcs(file, &bytes);
    let mut changed = bytes[5 * MIB as usize..10 * MIB as usize].to_vec();
    changed[17] ^= 1;
    crcs[1] = crc64nvme(&changed);
    let (status, text) = common::error_text(complete_with(&server, file, &crcs).await).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("CRC-64/NVME") && text.contains("aborted"), "{text}");
    let key = file["key"].as_str().unwrap().to_owned();
    assert!(!server.exists(&key).await, "nothing became an object");
    assert!(!pending_keys(&server).await.contains(&key), "the upload was aborted");

    // Sent again, the same file completes, and its checksum is reported.
    let signed = sign_body(&server, description).await;
    let file = &signed["files"][0];
    send_parts(&server, file, &bytes, &[2, 3, 1]).await;
    let completed = complete_with(&server, file, &part_crcs(file, &bytes)).await;
    assert_eq!(completed.status(), 200);
    let completed: Value = completed.json().await.unwrap();
    assert_eq!(completed["crc64nvme"], json!(crc64nvme(&bytes)));
    let stored = finalize(&server, &signed, file).await;
    assert_eq!(stored["crc64nvme"], json!(crc64nvme(&bytes)));
    assert_eq!(sha256(&download(&server, stored["key"].as_str().unwrap()).await), sha256(&bytes));
}

async fn malformed_part_checksums_are_refused_and_change_nothing(server: Server) {
    let bytes = random_bytes(12 * MIB);
    let signed =
        sign_body(&server, json!({"field": "file", "files": [{"name": "a.bin", "size": bytes.len()}]})).await;
    let file = &signed["files"][0];
    send_parts(&server, file, &bytes, &[1, 2, 3]).await;
    let crcs = part_crcs(file, &bytes);
    let cases = [
        (crcs[..2].to_vec(), "lists 2 checksums for a file of 3 parts"),
        ([crcs.clone(), crcs[..1].to_vec()].concat(), "lists 4 checksums"),
        (vec![crcs[0].clone(), "not base64!".into(), crcs[2].clone()], "crc64nvme of part 2"),
        (vec![crcs[0].clone(), crcs[1][..8].into(), crcs[2].clone()], "crc64nvme of part 2"),
    ];
    for (body, expected) in cases {
        let (status, text) = common::error_text(complete_with(&server, file, &body).await).await;
        assert_eq!(status, 400, "{body:?}: {text}");
        assert!(text.contains(expected), "{text}");
    }
    let mut numbers = upload_ref(file);
    numbers["crc64nvme"] = json!([1, 2, 3]);
    assert_eq!(post(&server, "/s3file/complete", numbers).await.status(), 400);
    // The upload is as it was, and completes.
    let key = file["key"].as_str().unwrap().to_owned();
    assert!(pending_keys(&server).await.contains(&key));
    assert_eq!(complete_with(&server, file, &crcs).await.status(), 200);
}

async fn without_checksums_uploads_take_no_whole_object_checksum(server: Server) {
    let bytes = random_bytes(12 * MIB);
    let signed =
        sign_body(&server, json!({"field": "file", "files": [{"name": "a.bin", "size": bytes.len()}]})).await;
    assert_eq!(signed["checksum"], "off");
    let file = &signed["files"][0];
    assert!(!file["multipart"]["ticket"].as_str().unwrap().contains("crc64nvme"));
    send_parts(&server, file, &bytes, &[1, 2, 3]).await;
    // Checksums a page sends anyway are not passed on: the upload was created without one.
    let mut crcs = part_crcs(file, &bytes);
    crcs[0] = crcs[1].clone();
    let completed = complete_with(&server, file, &crcs).await;
    assert_eq!(completed.status(), 200);
    let completed: Value = completed.json().await.unwrap();
    assert_eq!(completed["crc64nvme"], Value::Null);
    let stored = finalize(&server, &signed, file).await;
    assert_eq!(stored["crc64nvme"], Value::Null);
}

async fn a_part_of_another_length_is_refused(server: Server) {
    let signed =
        sign_body(&server, json!({"field": "file", "files": [{"name": "a.bin", "size": 12 * MIB}]})).await;
    let file = &signed["files"][0];
    let urls = part_urls(&server, file, &[1]).await;
    let longer = put(&server, &urls[0], random_bytes(5 * MIB + 1)).await;
    assert_eq!(longer.status(), 403, "the part's length is signed");
    let shorter = put(&server, &urls[0], random_bytes(MIB)).await;
    assert_eq!(shorter.status(), 403);
    let listed = server
        .state
        .storage
        .list_parts(file["key"].as_str().unwrap(), file["multipart"]["uploadId"].as_str().unwrap());
    assert_eq!(listed.await.unwrap().map(|parts| parts.len()), Some(0));
}

async fn tickets_bind_the_key_the_upload_and_the_parts(server: Server) {
    let signed = sign_body(
        &server,
        json!({"field": "file", "files": [
            {"name": "a.bin", "size": 12 * MIB}, {"name": "b.bin", "size": 12 * MIB},
        ]}),
    )
    .await;
    let (a, b) = (&signed["files"][0], &signed["files"][1]);
    let mut cases = Vec::new();
    // Another file's ticket, key or upload id.
    let mut swapped = upload_ref(a);
    swapped["ticket"] = b["multipart"]["ticket"].clone();
    cases.push((swapped, 403));
    let mut other_key = upload_ref(a);
    other_key["key"] = b["key"].clone();
    cases.push((other_key, 403));
    let mut other_upload = upload_ref(a);
    other_upload["uploadId"] = b["multipart"]["uploadId"].clone();
    cases.push((other_upload, 403));
    // A larger file than the one signed.
    let mut bigger = upload_ref(a);
    let ticket = bigger["ticket"].as_str().unwrap().to_owned();
    let (_, rest) = ticket.split_once('.').unwrap();
    bigger["ticket"] = json!(format!("{}.{rest}", 100 * MIB));
    cases.push((bigger, 403));
    // A key outside the upload folder.
    let mut outside = upload_ref(a);
    outside["key"] = json!("media/a.bin");
    cases.push((outside, 403));
    for (body, status) in cases {
        for path in ["/s3file/complete", "/s3file/abort"] {
            let (got, text) = common::error_text(post(&server, path, body.clone()).await).await;
            assert_eq!(got, status, "{path} {body}: {text}");
        }
        let mut parts = body.clone();
        parts["parts"] = json!([1]);
        assert_eq!(post(&server, "/s3file/parts", parts).await.status(), status);
    }
    // Part numbers outside the file, and malformed bodies.
    for numbers in [json!([0]), json!([4]), json!([]), json!([-1])] {
        let mut body = upload_ref(a);
        body["parts"] = numbers.clone();
        let status = post(&server, "/s3file/parts", body).await.status();
        assert_eq!(status, 400, "{numbers}");
    }
    let garbage = server
        .http
        .post(format!("{}/s3file/parts", server.url))
        .body("{not json")
        .header("content-type", "application/json");
    assert_eq!(garbage.send().await.unwrap().status(), 400);
    // Both uploads are untouched: still pending.
    let pending = pending_keys(&server).await;
    assert!(
        pending.contains(&a["key"].as_str().unwrap().to_owned())
            && pending.contains(&b["key"].as_str().unwrap().to_owned())
    );
}

async fn abort_leaves_no_upload_behind(server: Server) {
    let bytes = random_bytes(12 * MIB);
    let signed =
        sign_body(&server, json!({"field": "file", "files": [{"name": "gone.bin", "size": bytes.len()}]}))
            .await;
    let file = &signed["files"][0];
    send_parts(&server, file, &bytes, &[1]).await;
    let key = file["key"].as_str().unwrap().to_owned();
    assert!(pending_keys(&server).await.contains(&key));
    assert_eq!(post(&server, "/s3file/abort", upload_ref(file)).await.status(), 204);
    assert!(!pending_keys(&server).await.contains(&key), "ListMultipartUploads still shows {key}");
    // Aborting twice is fine; completing after abort is not.
    assert_eq!(post(&server, "/s3file/abort", upload_ref(file)).await.status(), 204);
    assert_eq!(complete(&server, file).await.status(), 404);
    assert!(!server.exists(&key).await);
}

async fn resume_carries_on_with_the_parts_s3_has(server: Server) {
    let bytes = random_bytes(12 * MIB);
    let description = json!({"name": "long.bin", "size": bytes.len()});
    let first = sign_body(&server, json!({"field": "file", "files": [description]})).await;
    let file = &first["files"][0];
    send_parts(&server, file, &bytes, &[1, 3]).await;

    // A reload later: the page still has the folder, its signature and the upload id.
    let key = file["key"].as_str().unwrap();
    let folder = key.rsplit_once('/').unwrap().0;
    let mut resumed_file = description.clone();
    resumed_file["uploadId"] = file["multipart"]["uploadId"].clone();
    let second = sign_body(
        &server,
        json!({
            "field": "file",
            "files": [resumed_file, {"name": "new.txt", "size": 5}],
            "resume": {"folder": folder, "signature": first["signature"]},
        }),
    )
    .await;
    let again = &second["files"][0];
    assert_eq!(again["key"], file["key"]);
    assert_eq!(again["multipart"]["uploadId"], file["multipart"]["uploadId"]);
    assert_eq!(again["multipart"]["done"], json!([1, 3]));
    // Other files of the field join the same folder, under one fresh signature.
    assert!(second["files"][1]["key"].as_str().unwrap().starts_with(&format!("{folder}/")));
    send_parts(&server, again, &bytes, &[2]).await;
    // A resumed upload takes no whole-object checksum (it may have been created without one):
    // the browser's checksums, wrong here, are not passed on.
    let mut crcs = part_crcs(again, &bytes);
    crcs.swap(0, 1);
    let completed = complete_with(&server, again, &crcs).await;
    assert_eq!(completed.status(), 200);
    assert_eq!(completed.json::<Value>().await.unwrap()["crc64nvme"], Value::Null);
    let stored = finalize(&server, &second, again).await;
    assert_eq!(sha256(&download(&server, stored["key"].as_str().unwrap()).await), sha256(&bytes));
}

async fn resume_with_a_forged_folder_starts_over(server: Server) {
    let first =
        sign_body(&server, json!({"field": "file", "files": [{"name": "a.bin", "size": 12 * MIB}]})).await;
    let file = &first["files"][0];
    let folder = file["key"].as_str().unwrap().rsplit_once('/').unwrap().0.to_owned();
    for (field, signature) in [("file", "1.forged"), ("other", first["signature"].as_str().unwrap())] {
        let second = sign_body(
            &server,
            json!({
                "field": field,
                "files": [{"name": "a.bin", "size": 12 * MIB, "uploadId": file["multipart"]["uploadId"]}],
                "resume": {"folder": folder, "signature": signature},
            }),
        )
        .await;
        let again = &second["files"][0];
        assert!(!again["key"].as_str().unwrap().starts_with(&folder), "{field}: {again}");
        assert_ne!(again["multipart"]["uploadId"], file["multipart"]["uploadId"]);
    }
}

async fn finalize_copies_large_objects_in_parts(server: Server) {
    let bytes = random_bytes(11 * MIB + 7);
    let signed = sign_body(
        &server,
        json!({"field": "file", "files": [{"name": "big.bin", "size": bytes.len(), "type": "video/mp4"}]}),
    )
    .await;
    let file = &signed["files"][0];
    send_parts(&server, file, &bytes, &[1, 2, 3]).await;
    assert_eq!(complete(&server, file).await.status(), 200);
    // Above the copy threshold (5 MiB here): finalize copies with UploadPartCopy.
    let stored = finalize(&server, &signed, file).await;
    let key = stored["key"].as_str().unwrap();
    assert_eq!(sha256(&download(&server, key).await), sha256(&bytes));
    assert_eq!(server.state.storage.head(key).await.unwrap().unwrap().content_type, "video/mp4");
    assert!(pending_keys(&server).await.is_empty(), "the copy's own multipart upload was completed");
}

async fn put_mode_uploads_small_files_with_a_presigned_put(server: Server) {
    let signed = sign_body(
        &server,
        json!({"field": "file", "files": [{"name": "note.txt", "size": 5, "type": "text/plain"}]}),
    )
    .await;
    let file = &signed["files"][0];
    assert!(file.get("fields").is_none(), "{file}");
    let request = &file["put"];
    // Another type or length than signed is refused.
    let mut wrong_type = request.clone();
    wrong_type["headers"] = json!([["content-type", "text/html"]]);
    assert_eq!(put(&server, &wrong_type, b"hello".to_vec()).await.status(), 403);
    assert_eq!(put(&server, request, b"hello!".to_vec()).await.status(), 403);
    assert_eq!(put(&server, request, b"hello".to_vec()).await.status(), 200);
    let stored = finalize(&server, &signed, file).await;
    assert_eq!(download(&server, stored["key"].as_str().unwrap()).await, b"hello");
    assert_eq!(stored["content_type"], "text/plain");
}

async fn sweep_aborts_unfinished_uploads(server: Server) {
    let signed =
        sign_body(&server, json!({"field": "file", "files": [{"name": "left.bin", "size": 12 * MIB}]})).await;
    let key = signed["files"][0]["key"].as_str().unwrap().to_owned();
    // A day's age spares it; no age at all does not.
    let day = std::time::Duration::from_secs(24 * 3600);
    assert_eq!(s3file_signer::sweep::sweep(&server.state, day).await.unwrap(), 0);
    assert!(pending_keys(&server).await.contains(&key));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let swept = s3file_signer::sweep::sweep(&server.state, std::time::Duration::from_secs(1)).await.unwrap();
    assert!(swept >= 1);
    assert!(!pending_keys(&server).await.contains(&key));
}
