//! The store suite: the same checks against the embedded dev store and against SeaweedFS.
//!
//! Each check signs through the real HTTP API, uploads with a browser-shaped multipart POST
//! straight to the store, and finalizes through the API, so the store's own policy checks are
//! what is under test.

use super::*;

/// Declares one `#[tokio::test]` per check of the suite, each on a fresh signer whose settings
/// come from `$settings(extra args)`.
#[macro_export]
macro_rules! store_suite {
    ($settings:ident) => {
        $crate::store_suite!($settings;
            valid_upload_is_finalized_with_a_server_side_copy;
            store_rejects_a_tampered_signature;
            store_rejects_a_tampered_policy;
            store_rejects_a_key_outside_the_signed_prefix;
            store_rejects_another_content_type;
            store_rejects_a_file_larger_than_announced;
            store_rejects_a_file_that_does_not_match_its_checksum;
            store_rejects_a_policy_signed_with_another_secret;
            store_rejects_an_expired_policy with &["--upload-expire", "1"];
            finalize_refuses_forged_and_foreign_keys;
            finalize_refuses_an_expired_folder_signature with &["--upload-expire", "1", "--signature-expire", "2"];
            sign_refuses_bad_requests;
            concurrent_forms_all_finalize;
            sign_enforces_accept_and_the_page_size_limit;
            finalize_refuses_malformed_forms;
            plain_multipart_upload_works_without_javascript;
            file_overwrite_replaces_objects_of_the_same_name with &["--file-overwrite", "true"];
            object_parameters_reach_the_stored_object
                with &["--object-parameters", r#"{"CacheControl": "max-age=60", "Metadata": {"project": "demo"}}"#];
            custom_domain_urls_are_plain with &["--custom-domain", "cdn.example.com"];
            querystring_auth_off_gives_unsigned_urls with &["--querystring-auth", "false"];
        );
    };
    ($settings:ident; $($name:ident $(with $args:expr)?;)*) => {$(
        #[tokio::test]
        async fn $name() {
            #[allow(unused_mut, unused_assignments)]
            let mut args: &[&str] = &[];
            $(args = $args;)?
            common::$name(common::start(common::$settings(args)).await).await;
        }
    )*};
}

pub async fn valid_upload_is_finalized_with_a_server_side_copy(server: Server) {
    let bytes = b"hello from s3file\n".repeat(100);
    let signed = server.sign("file", &[("hello.txt", bytes.len() as u64, "text/plain")]).await;
    let upload = signed.file(0);
    let response = server.upload(upload, &fields_of(upload), "hello.txt", bytes.clone()).await;
    assert_eq!(response.status(), 201);
    let body = response.text().await.unwrap();
    let key = upload["key"].as_str().unwrap();
    assert!(body.contains(&format!("<Key>{key}</Key>")), "{body}");

    let finalized = server
        .finalize(&[
            ("title", "Holiday"),
            ("s3file", "file"),
            ("file", key),
            ("file-s3f-signature", signed.signature()),
        ])
        .await;
    assert_eq!(finalized.status(), 200);
    let finalized: Value = finalized.json().await.unwrap();
    assert_eq!(finalized["fields"]["title"], json!(["Holiday"]));
    assert!(finalized["fields"].get("file-s3f-signature").is_none());
    let stored = &finalized["files"]["file"][0];
    assert_eq!(stored["name"], "hello.txt");
    assert_eq!(stored["key"], server.final_key(key));
    assert_eq!(stored["size"], bytes.len());
    assert_eq!(stored["content_type"], "text/plain");
    {
        use md5::Digest;
        let md5 = hex::encode(md5::Md5::digest(&bytes));
        assert_eq!(
            stored["etag"],
            md5.as_str(),
            "finalize reports the object's checksum (its ETag, the MD5)"
        );
    }
    let downloaded = server.http.get(stored["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(downloaded.status(), 200);
    assert_eq!(downloaded.bytes().await.unwrap().to_vec(), bytes);
    assert!(!server.exists(key).await, "the temporary object is deleted");

    // The same submission again finds nothing to move.
    let again = server
        .finalize(&[("s3file", "file"), ("file", key), ("file-s3f-signature", signed.signature())])
        .await;
    assert_eq!(again.status(), 404);
}

async fn refused_upload(
    server: &Server,
    alter: impl Fn(&[(String, String)]) -> Vec<(String, String)>,
    bytes: Vec<u8>,
) {
    let signed = server.sign("file", &[("a.txt", 5, "text/plain")]).await;
    let upload = signed.file(0);
    let fields = alter(&fields_of(upload));
    let response = server.upload(upload, &fields, "a.txt", bytes).await;
    let (status, body) = error_text(response).await;
    assert!((400..500).contains(&status), "expected a 4xx, got {status}: {body}");
    assert!(!server.exists(upload["key"].as_str().unwrap()).await, "nothing was stored");
    let finalized = server
        .finalize(&[
            ("s3file", "file"),
            ("file", upload["key"].as_str().unwrap()),
            ("file-s3f-signature", signed.signature()),
        ])
        .await;
    assert_eq!(finalized.status(), 404);
}

pub async fn store_rejects_a_tampered_signature(server: Server) {
    refused_upload(
        &server,
        |fields| {
            let signature = fields.iter().find(|(n, _)| n == "x-amz-signature").unwrap().1.clone();
            let flipped: String = signature.chars().rev().collect();
            replace(fields, "x-amz-signature", &flipped)
        },
        b"hello".to_vec(),
    )
    .await;
}

pub async fn store_rejects_a_tampered_policy(server: Server) {
    refused_upload(
        &server,
        |fields| {
            use base64::Engine;
            let engine = base64::engine::general_purpose::STANDARD;
            let policy = fields.iter().find(|(n, _)| n == "policy").unwrap().1.clone();
            let document = String::from_utf8(engine.decode(policy).unwrap()).unwrap();
            let widened =
                document.replace("\"content-length-range\",5,5", "\"content-length-range\",0,999999");
            assert_ne!(document, widened);
            replace(fields, "policy", &engine.encode(widened))
        },
        b"hello".to_vec(),
    )
    .await;
}

pub async fn store_rejects_a_key_outside_the_signed_prefix(server: Server) {
    refused_upload(&server, |fields| replace(fields, "key", "media/${filename}"), b"hello".to_vec()).await;
}

pub async fn store_rejects_another_content_type(server: Server) {
    refused_upload(&server, |fields| replace(fields, "Content-Type", "text/html"), b"hello".to_vec()).await;
}

pub async fn store_rejects_a_file_larger_than_announced(server: Server) {
    refused_upload(&server, |fields| fields.to_vec(), b"hello, and then some more".to_vec()).await;
}

/// The file's bytes changed on the way (or the checksum did): the store keeps nothing.
pub async fn store_rejects_a_file_that_does_not_match_its_checksum(server: Server) {
    let signed = server.sign("file", &[("a.txt", 5, "text/plain")]).await;
    let upload = signed.file(0);
    let mut fields = fields_of(upload);
    fields.extend(server.post_checksum(b"hellO"));
    let response = server.upload(upload, &fields, "a.txt", b"hello".to_vec()).await;
    let (status, body) = error_text(response).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>BadDigest</Code>"), "{body}");
    assert!(!server.exists(upload["key"].as_str().unwrap()).await, "nothing was stored");

    // The same form with the right checksum is stored.
    let response = server.upload(upload, &fields_of(upload), "a.txt", b"hello".to_vec()).await;
    assert_eq!(response.status(), 201);
}

pub async fn store_rejects_a_policy_signed_with_another_secret(server: Server) {
    refused_upload(
        &server,
        |fields| {
            let policy = fields.iter().find(|(n, _)| n == "policy").unwrap().1.clone();
            let date = fields.iter().find(|(n, _)| n == "x-amz-date").unwrap().1.clone();
            let day = time::Date::parse(&date[..8], time::macros::format_description!("[year][month][day]"))
                .unwrap();
            let key = s3file_signer::sigv4::derive_signing_key(
                "not-the-secret",
                day.midnight().assume_utc(),
                "us-east-1",
                "s3",
            );
            replace(fields, "x-amz-signature", &s3file_signer::sigv4::signature(&key, &policy))
        },
        b"hello".to_vec(),
    )
    .await;
}

pub async fn store_rejects_an_expired_policy(server: Server) {
    // The server under test signs policies valid for one second.
    let signed = server.sign("file", &[("a.txt", 5, "text/plain")]).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let upload = signed.file(0);
    let response = server.upload(upload, &fields_of(upload), "a.txt", b"hello".to_vec()).await;
    let (status, body) = error_text(response).await;
    assert!((400..500).contains(&status), "expected a 4xx, got {status}: {body}");
    assert!(!server.exists(upload["key"].as_str().unwrap()).await);
}

/// Uploads one file properly and returns (signed, key).
pub async fn uploaded(server: &Server, name: &str) -> (Signed, String) {
    let signed = server.sign("file", &[(name, 5, "text/plain")]).await;
    let upload = signed.file(0);
    let response = server.upload(upload, &fields_of(upload), name, b"hello".to_vec()).await;
    assert_eq!(response.status(), 201);
    let key = upload["key"].as_str().unwrap().to_owned();
    (signed, key)
}

async fn refused_finalize(
    server: &Server,
    fields: &[(&str, &str)],
    expected_status: u16,
    untouched: &[&str],
) {
    let response = server.finalize(fields).await;
    let (status, body) = error_text(response).await;
    assert_eq!(status, expected_status, "{body}");
    let message: Value = serde_json::from_str(&body).unwrap();
    assert!(!message["error"].as_str().unwrap().is_empty());
    for key in untouched {
        assert!(server.exists(key).await, "{key} must stay where it was");
    }
}

pub async fn finalize_refuses_forged_and_foreign_keys(server: Server) {
    let (signed, key) = uploaded(&server, "a.txt").await;
    let (other_signed, other_key) = uploaded(&server, "b.txt").await;
    let signature = signed.signature();
    let folder = key.rsplit_once('/').unwrap().0.to_owned();
    let tampered = format!("{}x", signature);
    // A forged signature.
    refused_finalize(
        &server,
        &[("s3file", "file"), ("file", &key), ("file-s3f-signature", &tampered)],
        403,
        &[&key],
    )
    .await;
    // A key from another folder, with this folder's signature.
    refused_finalize(
        &server,
        &[("s3file", "file"), ("file", &other_key), ("file-s3f-signature", signature)],
        403,
        &[&other_key],
    )
    .await;
    // One good key and one foreign key: nothing at all is moved.
    refused_finalize(
        &server,
        &[("s3file", "file"), ("file", &key), ("file", &other_key), ("file-s3f-signature", signature)],
        403,
        &[&key, &other_key],
    )
    .await;
    // The signature bound to another field name.
    refused_finalize(
        &server,
        &[("s3file", "other"), ("other", &key), ("other-s3f-signature", signature)],
        403,
        &[&key],
    )
    .await;
    // Path tricks inside the signed folder.
    for trick in ["../../media/a.txt", "..", ".", "sub/a.txt", "..\\a.txt", ""] {
        let forged = format!("{folder}/{trick}");
        refused_finalize(
            &server,
            &[("s3file", "file"), ("file", &forged), ("file-s3f-signature", signature)],
            403,
            &[&key],
        )
        .await;
    }
    // Encoded and look-alike spellings: never decoded, so at best literal names that do not
    // exist; refused either way, and nothing moves.
    for trick in [
        "%2e%2e%2fmedia%2fa.txt",
        "..%2fa.txt",
        "..%5ca.txt",
        "\u{ff0e}\u{ff0e}\u{ff0f}a.txt",
        "a\u{0301}.txt",
    ] {
        let forged = format!("{folder}/{trick}");
        let response = server
            .finalize(&[("s3file", "file"), ("file", &forged), ("file-s3f-signature", signature)])
            .await;
        assert!((400..500).contains(&response.status().as_u16()), "{trick}: {}", response.status());
        assert!(server.exists(&key).await);
    }
    // The upload path's look-alike, with a genuine folder name.
    let (upload_path, rest) = key.split_at(server.state.config.uploads.path.len());
    let lookalike = format!("{upload_path}_evil{rest}");
    refused_finalize(
        &server,
        &[("s3file", "file"), ("file", &lookalike), ("file-s3f-signature", signature)],
        403,
        &[&key],
    )
    .await;
    // No signature at all.
    refused_finalize(&server, &[("s3file", "file"), ("file", &key)], 400, &[&key]).await;
    assert!(!server.exists(&server.final_key(&key)).await, "nothing was copied");
    // And the genuine submissions still work afterwards.
    let ok = server
        .finalize(&[
            ("s3file", "file"),
            ("file", &other_key),
            ("file-s3f-signature", other_signed.signature()),
        ])
        .await;
    assert_eq!(ok.status(), 200);
}

pub async fn finalize_refuses_an_expired_folder_signature(server: Server) {
    // The server under test accepts folder signatures for two seconds.
    let (signed, key) = uploaded(&server, "late.txt").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    refused_finalize(
        &server,
        &[("s3file", "file"), ("file", &key), ("file-s3f-signature", signed.signature())],
        403,
        &[&key],
    )
    .await;
}

pub async fn sign_refuses_bad_requests(server: Server) {
    let too_big = server.state.config.rules.default_rule().max_size() + 1;
    let cases = [
        (json!({"field": "file"}), 400),
        (json!({"field": "", "files": [{"name": "a", "size": 1, "type": ""}]}), 400),
        (json!({"field": "file", "files": []}), 400),
        (json!({"field": "file", "files": [{"name": "..", "size": 1, "type": ""}]}), 400),
        (json!({"field": "file", "files": [{"name": "a", "size": -1, "type": ""}]}), 400),
        (json!({"field": "file", "files": [{"name": "a", "size": too_big, "type": ""}]}), 413),
        (json!({"field": "file", "files": [{"name": "a", "size": 1, "type": "text/plain\r\nX: y"}]}), 400),
    ];
    for (body, expected) in cases {
        let (status, text) = error_text(server.sign_raw(body.clone()).await).await;
        assert_eq!(status, expected, "{body}: {text}");
        let message: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
        assert!(!message["error"].as_str().unwrap().is_empty());
    }
    let malformed = server
        .http
        .post(format!("{}/s3file/sign", server.url))
        .header("content-type", "application/json")
        .body("{\"field\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let huge = format!("{{\"field\": \"{}\"}}", "x".repeat(s3file_signer::app::SIGN_BODY_LIMIT));
    let huge = server
        .http
        .post(format!("{}/s3file/sign", server.url))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    let many: Vec<Value> =
        (0..10_000).map(|i| json!({"name": format!("{i}.txt"), "size": 1, "type": ""})).collect();
    let many = server.sign_raw(json!({"field": "file", "files": many})).await;
    assert!(matches!(many.status().as_u16(), 413), "{}", many.status());
}

pub async fn sign_enforces_accept_and_the_page_size_limit(server: Server) {
    let accepted = server
        .sign_raw(json!({"field": "f", "accept": "image/*,.pdf", "files": [
            {"name": "a.png", "size": 1, "type": "image/png"},
            {"name": "b.PDF", "size": 1, "type": ""},
        ]}))
        .await;
    assert_eq!(accepted.status(), 200);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["files"][0]["fields"]["Content-Type"], "image/png");
    assert_eq!(accepted["files"][1]["fields"]["Content-Type"], "application/octet-stream");
    let refused = server
        .sign_raw(json!({"field": "f", "accept": "image/*", "files": [{"name": "a.html", "size": 1, "type": "text/html"}]}))
        .await;
    let (status, body) = error_text(refused).await;
    assert_eq!(status, 400);
    assert!(body.contains("a.html"), "{body}");
    let too_big = server
        .sign_raw(json!({"field": "f", "max_size": 10, "files": [{"name": "a", "size": 11, "type": ""}]}))
        .await;
    assert_eq!(too_big.status(), 413);
    // A page cannot raise the signer's own limit.
    let over_limit = server.state.config.rules.default_rule().max_size() + 1;
    let raised = server
        .sign_raw(json!({"field": "f", "max_size": u64::MAX, "files": [{"name": "a", "size": over_limit, "type": ""}]}))
        .await;
    assert_eq!(raised.status(), 413);
}

pub async fn finalize_refuses_malformed_forms(server: Server) {
    // Ten thousand keys in one form: refused before any is looked up.
    let (signed, key) = uploaded(&server, "one.txt").await;
    let folder = key.rsplit_once('/').unwrap().0;
    let keys: Vec<String> = (0..10_000).map(|n| format!("{folder}/{n}.txt")).collect();
    let mut many: Vec<(&str, &str)> = vec![("s3file", "file"), ("file-s3f-signature", signed.signature())];
    many.extend(keys.iter().map(|key| ("file", key.as_str())));
    let response = server.finalize(&many).await;
    assert_eq!(response.status(), 413);
    assert!(server.exists(&key).await);
    let url = format!("{}/s3file/finalize", server.url);
    let not_a_form =
        server.http.post(&url).header("content-type", "application/json").body("{}").send().await.unwrap();
    assert_eq!(not_a_form.status(), 400);
    let broken = server
        .http
        .post(&url)
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\nnonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    let huge = format!("title={}", "x".repeat(2 * 1024 * 1024));
    let huge = server
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
}

pub async fn plain_multipart_upload_works_without_javascript(server: Server) {
    let form = Form::new().text("title", "no js").part(
        "file",
        Part::bytes(b"plain bytes".to_vec()).file_name("plain.txt").mime_str("text/plain").unwrap(),
    );
    let response = server.finalize_multipart(form).await;
    assert_eq!(response.status(), 200);
    let finalized: Value = response.json().await.unwrap();
    let stored = &finalized["files"]["file"][0];
    // The fallback names files as the widget's uploads are named: a folder id of their own.
    let key = stored["key"].as_str().unwrap();
    let location = &server.state.config.finals.location;
    let folder = key.strip_prefix(location.as_str()).unwrap().trim_start_matches('/');
    let folder = folder.strip_suffix("/plain.txt").unwrap();
    assert!(folder.len() >= 16 && !folder.contains('/'), "{key}");
    assert_eq!(stored["size"], 11);
    let downloaded =
        server.http.get(stored["url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&downloaded[..], b"plain bytes");
}

/// Finalizes one uploaded file and returns what finalize said about it.
pub async fn upload_and_finalize(server: &Server, name: &str) -> Value {
    let (signed, key) = uploaded(server, name).await;
    let response = server
        .finalize(&[("s3file", "file"), ("file", &key), ("file-s3f-signature", signed.signature())])
        .await;
    assert_eq!(response.status(), 200);
    let finalized: Value = response.json().await.unwrap();
    finalized["files"]["file"][0].clone()
}

pub async fn object_parameters_reach_the_stored_object(server: Server) {
    let stored = upload_and_finalize(&server, "params.txt").await;
    let head = server
        .state
        .storage
        .client
        .head_object()
        .bucket(&server.state.storage.bucket)
        .key(stored["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(head.cache_control(), Some("max-age=60"));
    assert_eq!(head.metadata().and_then(|m| m.get("project")).map(String::as_str), Some("demo"));
    assert_eq!(head.content_type(), Some("text/plain"));
}

pub async fn custom_domain_urls_are_plain(server: Server) {
    let stored = upload_and_finalize(&server, "cdn file.txt").await;
    let key = stored["key"].as_str().unwrap();
    assert_eq!(stored["url"], format!("https://cdn.example.com/{}", s3file_signer::keys::url_path(key)));
}

pub async fn querystring_auth_off_gives_unsigned_urls(server: Server) {
    let stored = upload_and_finalize(&server, "public.txt").await;
    let key = stored["key"].as_str().unwrap();
    assert_eq!(stored["url"], format!("{}/{}", server.state.bucket_url, key));
}

/// Many forms at once, each signed, uploaded and finalized: every one ends with its own bytes at
/// its own final key (a bounded load on loopback; correctness, not speed, is asserted).
pub async fn concurrent_forms_all_finalize(server: Server) {
    let server = std::sync::Arc::new(server);
    let mut tasks = Vec::new();
    for n in 0..64 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("load-{n}.txt");
            let bytes = format!("form number {n}").into_bytes();
            let signed = server.sign("file", &[(&name, bytes.len() as u64, "text/plain")]).await;
            let upload = signed.file(0);
            let response = server.upload(upload, &fields_of(upload), &name, bytes.clone()).await;
            assert_eq!(response.status(), 201);
            let key = upload["key"].as_str().unwrap();
            let finalized: Value = server
                .finalize(&[("s3file", "file"), ("file", key), ("file-s3f-signature", signed.signature())])
                .await
                .json()
                .await
                .unwrap();
            let url = finalized["files"]["file"][0]["url"].as_str().unwrap().to_owned();
            let downloaded = server.http.get(url).send().await.unwrap().bytes().await.unwrap();
            assert_eq!(downloaded.to_vec(), bytes);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// Two signers with the same settings behind one service: any of them finalizes what another
/// signed.
pub async fn replicas_finalize_what_another_signed(a: Server, b: Server) {
    let (signed, key) = uploaded(&a, "replica.txt").await;
    let response =
        b.finalize(&[("s3file", "file"), ("file", &key), ("file-s3f-signature", signed.signature())]).await;
    let (status, body) = error_text(response).await;
    assert_eq!(status, 200, "{body}");
    let finalized: Value = serde_json::from_str(&body).unwrap();
    let stored = &finalized["files"]["file"][0];
    assert!(a.exists(stored["key"].as_str().unwrap()).await);
    assert!(!a.exists(&key).await);
}

/// `AWS_S3_FILE_OVERWRITE=true`, opted into: django-storages' naming, `<location>/<name>`.
pub async fn file_overwrite_replaces_objects_of_the_same_name(server: Server) {
    let (first_signed, first) = uploaded(&server, "same.txt").await;
    let (second_signed, second) = uploaded(&server, "same.txt").await;
    let mut keys = Vec::new();
    for (signed, key) in [(first_signed, first), (second_signed, second)] {
        let response = server
            .finalize(&[("s3file", "file"), ("file", &key), ("file-s3f-signature", signed.signature())])
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        keys.push(body["files"]["file"][0]["key"].as_str().unwrap().to_owned());
    }
    assert_eq!(keys[0], s3file_signer::keys::join(&[&server.state.config.finals.location, "same.txt"]));
    assert_eq!(keys[0], keys[1]);
}
