//! Gzip for text types (`AWS_IS_GZIPPED`, `GZIP_CONTENT_TYPES`) against a store: the sign
//! answer's gzip fields, a compressed POST through finalize to a download, what the gzip policy
//! refuses, and the no-JavaScript fallback compressing on the server. Run against the dev store
//! and SeaweedFS.

use std::io::{Read, Write};

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use super::*;

/// Declares one `#[tokio::test]` per check, each on a fresh signer with gzip on, from
/// `$settings(["--is-gzipped", "true", extra args…])`.
#[macro_export]
macro_rules! gzip_suite {
    ($settings:ident) => {
        $crate::gzip_suite!($settings;
            gzip_fields_come_with_listed_types_only;
            a_gzip_upload_is_served_with_content_encoding_gzip;
            the_gzip_policy_takes_only_smaller_gzip_bytes;
            the_fallback_stores_listed_types_gzipped_when_smaller;
            a_gzip_object_copied_in_parts_keeps_its_encoding
                with &["--multipart-copy-threshold", "5242880", "--gzip-content-types", "text/plain"];
        );
    };
    ($settings:ident; $($name:ident $(with $args:expr)?;)*) => {$(
        #[tokio::test]
        async fn $name() {
            #[allow(unused_mut, unused_assignments)]
            let mut extra: &[&str] = &[];
            $(extra = $args;)?
            let args = [&["--is-gzipped", "true"][..], extra].concat();
            common::gzip_suite::$name(common::start(common::$settings(&args)).await).await;
        }
    )*};
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut plain).unwrap();
    plain
}

/// A style sheet that compresses well.
pub fn css() -> Vec<u8> {
    b"body { color: #333; margin: 0 auto; }\n".repeat(200)
}

/// Bytes gzip cannot shrink.
fn noise(len: usize) -> Vec<u8> {
    use md5::Digest;
    (0u32..).flat_map(|n| md5::Md5::digest(n.to_be_bytes())).take(len).collect()
}

pub fn gzip_fields_of(upload: &Value) -> Vec<(String, String)> {
    fields_of(&upload["gzip"])
}

fn without(fields: &[(String, String)], name: &str) -> Vec<(String, String)> {
    fields.iter().filter(|(field, _)| field != name).cloned().collect()
}

/// Finalizes the uploads of `signed` (field `file`) and answers finalize's `files.file`.
async fn finalized(server: &Server, signed: &Signed, keys: &[&str]) -> Vec<Value> {
    let mut form = vec![("s3file", "file"), ("file-s3f-signature", signed.signature())];
    form.extend(keys.iter().map(|key| ("file", *key)));
    let (status, body) = error_text(server.finalize(&form).await).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["files"]["file"].as_array().unwrap().clone()
}

/// A plain GET of a download URL, as a browser or HTTP client sends it (this client decodes
/// nothing): the status, the `Content-Encoding` and the bytes as they came.
async fn download(server: &Server, url: &str) -> (u16, Option<String>, Vec<u8>) {
    let response = server.http.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let encoding = response.headers().get("content-encoding").map(|value| value.to_str().unwrap().to_owned());
    (status, encoding, response.bytes().await.unwrap().to_vec())
}

pub async fn gzip_fields_come_with_listed_types_only(server: Server) {
    let files = [("a.css", 1000, "text/css"), ("b.txt", 1000, "text/plain"), ("c.js", 1, "text/javascript")];
    let signed = server.sign("file", &files).await;
    let css = signed.file(0);
    let plain = fields_of(css);
    let gzip = gzip_fields_of(css);
    assert_eq!(css["gzip"].as_object().unwrap().len(), 1, "only fields: {}", css["gzip"]);
    // The same fields and Content-Encoding, under a policy of its own.
    let unsigned = |fields: &[(String, String)]| -> Vec<(String, String)> {
        without(&without(fields, "policy"), "x-amz-signature")
    };
    let mut expected = unsigned(&plain);
    expected.push(("Content-Encoding".to_owned(), "gzip".to_owned()));
    expected.sort();
    let mut got = unsigned(&gzip);
    got.sort();
    assert_eq!(got, expected);
    let value =
        |fields: &[(String, String)], name: &str| fields.iter().find(|(n, _)| n == name).unwrap().1.clone();
    assert_ne!(value(&gzip, "policy"), value(&plain, "policy"));
    assert_ne!(value(&gzip, "x-amz-signature"), value(&plain, "x-amz-signature"));
    assert!(signed.file(1).get("gzip").is_none(), "an unlisted type: {}", signed.file(1));
    assert!(signed.file(2).get("gzip").is_none(), "a single byte: {}", signed.file(2));
}

/// The browser's way: the compressed bytes with the gzip fields, finalized, and downloaded with
/// a plain GET of the download URL.
pub async fn a_gzip_upload_is_served_with_content_encoding_gzip(server: Server) {
    let original = css();
    let compressed = gzip(&original);
    let signed = server.sign("file", &[("site.css", original.len() as u64, "text/css; charset=utf-8")]).await;
    let upload = signed.file(0);
    let response = server.upload(upload, &gzip_fields_of(upload), "site.css", compressed.clone()).await;
    let (status, body) = error_text(response).await;
    assert_eq!(status, 201, "{body}");
    let key = upload["key"].as_str().unwrap();
    let stored = &finalized(&server, &signed, &[key]).await[0];
    assert_eq!(stored["content_type"], "text/css; charset=utf-8");
    // What is stored is the compressed object: its size and ETag, as django-storages reports.
    assert_eq!(stored["size"], compressed.len());
    {
        use md5::Digest;
        assert_eq!(stored["etag"], hex::encode(md5::Md5::digest(&compressed)));
    }
    let (status, encoding, bytes) = download(&server, stored["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert_eq!(bytes, compressed);
    assert_eq!(gunzip(&bytes), original);
}

/// Bytes the gzip policy was not signed for: as many as the file or more (the plain fields are
/// for those), and a form without `Content-Encoding: gzip`. Nothing is stored.
pub async fn the_gzip_policy_takes_only_smaller_gzip_bytes(server: Server) {
    let original = css();
    let signed = server.sign("file", &[("site.css", original.len() as u64, "text/css")]).await;
    let upload = signed.file(0);
    let gzip_fields = gzip_fields_of(upload);
    let key = upload["key"].as_str().unwrap();
    // The compressed bytes padded to the file's length: a store looks at the length, not inside.
    let mut padded = gzip(&original);
    padded.resize(original.len(), 0);
    // S3's words for each refusal; SeaweedFS does not name the failed condition, the dev store
    // does (as S3 does).
    let cases = [
        ("gzip bytes as long as the file", gzip_fields.clone(), padded, "EntityTooLarge"),
        (
            "gzip bytes longer than the file",
            gzip_fields.clone(),
            gzip(&noise(original.len())),
            "EntityTooLarge",
        ),
        ("no bytes at all", gzip_fields.clone(), Vec::new(), "EntityTooSmall"),
        (
            "no Content-Encoding",
            without(&gzip_fields, "Content-Encoding"),
            gzip(&original),
            "Policy Condition failed",
        ),
        (
            "another Content-Encoding",
            replace(&gzip_fields, "Content-Encoding", "br"),
            gzip(&original),
            "Policy Condition failed",
        ),
    ];
    for (case, fields, bytes, why) in cases {
        let (status, body) = error_text(server.upload(upload, &fields, "site.css", bytes).await).await;
        assert!((400..500).contains(&status), "{case}: {status} {body}");
        assert!(body.contains(why), "{case}: {body}");
        assert!(!server.exists(key).await, "{case}: nothing is stored");
    }
    // And the forms as signed are stored.
    let response = server.upload(upload, &gzip_fields, "site.css", gzip(&original)).await;
    assert_eq!(response.status(), 201);
}

/// A browser without JavaScript posts the files to the signer: it compresses a listed type
/// when that makes it smaller, and stores the rest as they came.
pub async fn the_fallback_stores_listed_types_gzipped_when_smaller(server: Server) {
    let text = b"plain text, not in the list\n".repeat(100);
    let files = [
        ("site.css", css(), "text/css"),
        ("noise.css", noise(4000), "text/css"),
        ("notes.txt", text, "text/plain"),
    ];
    let mut form = Form::new();
    for (name, bytes, kind) in &files {
        form = form.part("file", Part::bytes(bytes.clone()).file_name(*name).mime_str(kind).unwrap());
    }
    let (status, body) = error_text(server.finalize_multipart(form).await).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let stored = body["files"]["file"].as_array().unwrap();
    for ((name, original, _), stored) in files.iter().zip(stored) {
        assert_eq!(stored["name"], *name);
        let (status, encoding, bytes) = download(&server, stored["url"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(stored["size"], bytes.len(), "{name}: finalize reports the stored size");
        if *name == "site.css" {
            assert_eq!(encoding.as_deref(), Some("gzip"), "{name}");
            assert!(bytes.len() < original.len(), "{name}");
            assert_eq!(gunzip(&bytes), *original, "{name}");
        } else {
            assert_eq!(encoding, None, "{name}");
            assert_eq!(bytes, *original, "{name}");
        }
    }
}

/// Finalize copies objects over `S3FILE_MULTIPART_COPY_THRESHOLD` in parts: the copy is a new
/// upload, which must be told the encoding a single CopyObject would have kept.
pub async fn a_gzip_object_copied_in_parts_keeps_its_encoding(server: Server) {
    // Hex text: it compresses to about half, still above the 5 MiB threshold.
    let original: Vec<u8> = hex::encode(noise(6 * 1024 * 1024)).into_bytes();
    let compressed = gzip(&original);
    assert!(compressed.len() > 5 * 1024 * 1024, "{} bytes", compressed.len());
    let signed = server.sign("file", &[("big.txt", original.len() as u64, "text/plain")]).await;
    let upload = signed.file(0);
    let response = server.upload(upload, &gzip_fields_of(upload), "big.txt", compressed.clone()).await;
    assert_eq!(response.status(), 201);
    let stored = &finalized(&server, &signed, &[upload["key"].as_str().unwrap()]).await[0];
    assert!(stored["etag"].as_str().unwrap().contains('-'), "copied in parts: {stored}");
    let (status, encoding, bytes) = download(&server, stored["url"].as_str().unwrap()).await;
    assert_eq!((status, encoding.as_deref()), (200, Some("gzip")));
    assert_eq!(gunzip(&bytes), original);
}
