//! What was signed is what is stored: the signer's own rules (S3FILE_ACCEPT, S3FILE_FIELDS,
//! S3FILE_MAX_FILE_SIZE) bind every upload whatever the page asks, a page's `accept` and
//! `max_size` can only narrow them, a file's name and type must agree with what is allowed, and
//! a POST policy stores exactly the key it was signed for.

mod common;

use common::*;
use serde_json::{json, Value};

/// Signs `files` (name, size, type) for `field` with the page's `extra` request members;
/// answers the status and the JSON body.
async fn sign(server: &Server, field: &str, files: &[(&str, u64, &str)], extra: Value) -> (u16, Value) {
    let files: Vec<Value> =
        files.iter().map(|(name, size, kind)| json!({"name": name, "size": size, "type": kind})).collect();
    let mut body = json!({"field": field, "files": files});
    for (name, value) in extra.as_object().into_iter().flatten() {
        body[name] = value.clone();
    }
    let response = server.sign_raw(body).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")))
}

fn error(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_else(|| panic!("no error in {body}"))
}

#[tokio::test]
async fn the_signers_accept_binds_a_page_that_sends_none() {
    let server = start(dev_settings(&["--accept", "image/png"])).await;
    let (status, body) = sign(&server, "file", &[("evil.html", 5, "text/html")], json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert!(error(&body).contains("evil.html"), "{body}");
    let (status, body) = sign(&server, "file", &[("a.png", 5, "image/png")], json!({})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_page_cannot_widen_the_signers_accept() {
    let server = start(dev_settings(&["--accept", "image/png"])).await;
    for accept in ["*/*", "image/*,text/html", ".html", ""] {
        let (status, body) =
            sign(&server, "file", &[("evil.html", 5, "text/html")], json!({"accept": accept})).await;
        assert_eq!(status, 400, "accept {accept:?}: {body}");
    }
    let (status, body) =
        sign(&server, "file", &[("a.png", 5, "image/png")], json!({"accept": "image/*"})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_field_rule_wins_over_the_defaults() {
    let fields = r#"{"avatar": {"accept": "image/png", "max_size": 1000}, "doc": {"accept": ".pdf"}}"#;
    let server =
        start(dev_settings(&["--accept", "image/*", "--max-file-size", "100", "--fields", fields])).await;
    let unlimited = json!({"max_size": u64::MAX});
    // avatar: its own types and its own, larger, limit.
    let (status, body) = sign(&server, "avatar", &[("a.jpg", 5, "image/jpeg")], json!({})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = sign(&server, "avatar", &[("a.png", 500, "image/png")], json!({})).await;
    assert_eq!(status, 200, "the field's limit replaces S3FILE_MAX_FILE_SIZE: {body}");
    let (status, body) = sign(&server, "avatar", &[("a.png", 1001, "image/png")], unlimited.clone()).await;
    assert_eq!(status, 413, "{body}");
    // doc: its own types, S3FILE_MAX_FILE_SIZE.
    let (status, body) = sign(&server, "doc", &[("a.pdf", 50, "application/pdf")], json!({})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = sign(&server, "doc", &[("a.pdf", 101, "application/pdf")], unlimited.clone()).await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = sign(&server, "doc", &[("a.png", 5, "image/png")], json!({})).await;
    assert_eq!(status, 400, "{body}");
    // Any other field: S3FILE_ACCEPT.
    let (status, body) = sign(&server, "other", &[("a.gif", 5, "image/gif")], json!({})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        sign(&server, "other", &[("a.pdf", 5, "application/pdf")], json!({"accept": ".pdf"})).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn a_page_may_narrow_the_field_rules() {
    let fields = r#"{"avatar": {"accept": "image/png,image/jpeg", "max_size": 1000}}"#;
    let server = start(dev_settings(&["--fields", fields])).await;
    let (status, body) =
        sign(&server, "avatar", &[("a.jpg", 5, "image/jpeg")], json!({"accept": "image/png"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) =
        sign(&server, "avatar", &[("a.png", 11, "image/png")], json!({"max_size": 10})).await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = sign(
        &server,
        "avatar",
        &[("a.png", 10, "image/png")],
        json!({"accept": "image/png", "max_size": 10}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_extension_allows_only_its_own_types() {
    let server = start(dev_settings(&[])).await;
    let (status, body) =
        sign(&server, "file", &[("evil.png", 5, "text/html")], json!({"accept": ".png"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(error(&body).contains("text/html"), "{body}");
    let trusted = start(dev_settings(&["--accept", ".png"])).await;
    let (status, body) = sign(&trusted, "file", &[("evil.png", 5, "text/html")], json!({})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = sign(&trusted, "file", &[("a.PNG", 5, "image/png")], json!({})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_name_must_agree_with_the_allowed_types() {
    let server = start(dev_settings(&[])).await;
    let image = json!({"accept": "image/*"});
    let (status, body) = sign(&server, "file", &[("evil.html", 5, "image/png")], image.clone()).await;
    assert_eq!(status, 400, "{body}");
    let message = error(&body);
    assert!(
        message.contains("the extension .html is not allowed here (allowed: image/*)")
            && message.contains("rename the file"),
        "{message}"
    );
    // An image extension with another image type: the two disagree.
    let (status, body) = sign(&server, "file", &[("a.png", 5, "image/jpeg")], image.clone()).await;
    assert_eq!(status, 400, "{body}");
    // No extension: nothing says the name is an image.
    let (status, body) = sign(&server, "file", &[("photo", 5, "image/png")], image.clone()).await;
    assert_eq!(status, 400, "{body}");
    // The same with the signer's own rule.
    let trusted = start(dev_settings(&["--accept", "image/*"])).await;
    let (status, body) = sign(&trusted, "file", &[("evil.html", 5, "image/png")], json!({})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = sign(&trusted, "file", &[("a.png", 5, "image/png")], json!({})).await;
    assert_eq!(status, 200, "{body}");
}

/// The widget shows the signer's message as it is; its tests (and pages' users) know this
/// wording, and a file of no type is still signed as `application/octet-stream`.
#[tokio::test]
async fn refusals_keep_their_wording_and_unknown_types_stay_opaque() {
    let server = start(dev_settings(&[])).await;
    let (status, body) =
        sign(&server, "file", &[("notes.txt", 10, "text/plain")], json!({"accept": "image/png,.jpg"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(error(&body).contains("notes.txt (text/plain) is not an accepted type"), "{body}");
    let (status, body) = sign(
        &server,
        "file",
        &[("a.png", 1, "image/png"), ("b.PDF", 1, "")],
        json!({"accept": "image/*,.pdf"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["files"][1]["fields"]["Content-Type"], "application/octet-stream");
}

#[test]
fn bad_rules_are_settings_errors_that_name_the_setting() {
    let cases: [(&[&str], &str); 9] = [
        (&["--accept", "image"], "S3FILE_ACCEPT"),
        (&["--accept", "image/png;q=1"], "S3FILE_ACCEPT"),
        (&["--fields", "not json"], "S3FILE_FIELDS"),
        (&["--fields", r#"["avatar"]"#], "S3FILE_FIELDS"),
        (&["--fields", r#"{"avatar": {"acept": "image/png"}}"#], "S3FILE_FIELDS"),
        (&["--fields", r#"{"avatar": {"accept": "png"}}"#], "S3FILE_FIELDS"),
        (&["--fields", r#"{"avatar": {"max_size": -1}}"#], "S3FILE_FIELDS"),
        (&["--fields", r#"{"avatar": {"max_size": 6000000000000}}"#], "S3FILE_FIELDS"),
        (&["--fields", r#"{"": {}}"#], "S3FILE_FIELDS"),
    ];
    let production = |args: &[&str]| {
        let mut all = vec!["--bucket-name", "media"];
        all.extend_from_slice(args);
        settings(&all)
    };
    for (args, setting) in cases {
        let errors = production(args).errors();
        assert!(errors.iter().any(|error| error.contains(setting)), "{args:?}: {errors:?}");
    }
    let sound = production(&["--accept", "image/*, .pdf", "--fields", r#"{"avatar": {"accept": ".png"}}"#]);
    assert_eq!(sound.errors(), Vec::<String>::new());
}

#[tokio::test]
async fn the_policy_pins_the_exact_key() {
    let server = start(dev_settings(&[])).await;
    let signed = server.sign("file", &[("a.png", 5, "image/png")]).await;
    let upload = signed.file(0);
    assert_eq!(upload["fields"]["key"], upload["key"], "{upload}");
}

/// A policy signed for `a.png` stores `a.png` and nothing else: not `a.html` by another key
/// field, nor by `${filename}` and another file name.
async fn a_policy_for_one_name_stores_no_other(server: Server) {
    let signed = server.sign("file", &[("a.png", 5, "image/png")]).await;
    let upload = signed.file(0);
    let key = upload["key"].as_str().unwrap();
    let folder = key.rsplit_once('/').unwrap().0;
    let html = format!("{folder}/a.html");
    for (key_field, file_name) in [(html.as_str(), "a.png"), (&format!("{folder}/${{filename}}"), "a.html")] {
        let fields = replace(&fields_of(upload), "key", key_field);
        let (status, body) =
            error_text(server.upload(upload, &fields, file_name, b"<svg>".to_vec()).await).await;
        assert!((400..500).contains(&status), "key {key_field:?}, file {file_name:?}: {status} {body}");
        assert!(!server.exists(&html).await, "stored {html}");
    }
    // Posted under another name, the file still lands at the signed key.
    let response = server.upload(upload, &fields_of(upload), "a.html", b"<svg>".to_vec()).await;
    assert_eq!(response.status(), 201);
    assert!(server.exists(key).await);
    assert!(!server.exists(&html).await, "stored {html}");
}

#[tokio::test]
async fn a_policy_for_one_name_stores_no_other_in_the_dev_store() {
    a_policy_for_one_name_stores_no_other(start(dev_settings(&[])).await).await;
}

/// SeaweedFS started by `cargo xtask test`: a store of its own checks exact-key policies too.
#[tokio::test]
async fn a_policy_for_one_name_stores_no_other_in_seaweedfs() {
    a_policy_for_one_name_stores_no_other(start(seaweedfs_settings(&[])).await).await;
}

/// A file name with S3's `${filename}` placeholder in it cannot have an exact key: S3 would
/// replace the placeholder in the signed key.
#[tokio::test]
async fn a_name_with_the_filename_placeholder_is_refused() {
    let server = start(dev_settings(&[])).await;
    let (status, body) = sign(&server, "file", &[("${filename}.png", 5, "image/png")], json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert!(error(&body).contains("rename the file"), "{body}");
}

/// The rules bind whichever way the file goes up, not only POST policies.
#[tokio::test]
async fn the_rules_bind_presigned_puts_and_multipart_uploads_too() {
    let fields = r#"{"file": {"accept": "image/png"}}"#;
    for extra in [&["--upload-method", "put"][..], &["--multipart-threshold", "0"][..]] {
        let mut args = vec!["--fields", fields];
        args.extend_from_slice(extra);
        let server = start(dev_settings(&args)).await;
        let (status, body) = sign(&server, "file", &[("evil.html", 5, "text/html")], json!({})).await;
        assert_eq!(status, 400, "{extra:?}: {body}");
    }
}

#[test]
fn the_settings_file_gives_field_rules_as_tables() {
    use s3file_signer::config::{Cli, Command};
    let dir = std::env::temp_dir().join(format!("s3file-rules-{}", hex_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s3file.toml");
    std::fs::write(
        &path,
        r#"
        bucket_name = "media"
        accept = "image/*"
        max_file_size = 100

        [fields.avatar]
        accept = ["image/png", ".png"]
        max_size = 1_000

        [fields.doc]
        accept = ".pdf"
        "#,
    )
    .unwrap();
    let argv = vec!["s3file-signer".to_owned(), "--config".to_owned(), path.display().to_string()];
    let Command::Serve(settings) = Cli::parse_with_file(argv).unwrap().into_command() else {
        panic!("serve is the default")
    };
    let rules = settings.field_rules().unwrap();
    let avatar = rules.for_field("avatar");
    assert_eq!(avatar.max_size(), 1000);
    assert!(avatar.check("a.png", "image/png", 1000).is_ok());
    assert!(avatar.check("a.gif", "image/gif", 1).is_err());
    assert_eq!(rules.for_field("doc").max_size(), 100);
    assert!(rules.for_field("doc").check("a.pdf", "application/pdf", 1).is_ok());
    assert!(rules.for_field("other").check("a.gif", "image/gif", 1).is_ok());
    assert!(rules.for_field("other").check("a.pdf", "application/pdf", 1).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

/// The form fields of a POST policy that, unlike the signer's, lets any key under `prefix`
/// through, signed with the dev store's credentials: what S3 also accepts.
async fn prefix_policy(server: &Server, prefix: &str, size: u64) -> Vec<(String, String)> {
    use base64::Engine;
    use s3file_signer::sigv4;
    let credentials = server.state.credentials.signing_credentials().await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let region = &server.state.region;
    let credential = sigv4::credential(&credentials.access_key_id, now, region);
    let amz_date = sigv4::amz_date(now);
    // The field `Server::upload` sends the checksum in.
    let checksum_field = server.state.config.uploads.checksum.post_field().unwrap();
    let expiration = (now + time::Duration::hours(1))
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let document = json!({
        "expiration": expiration,
        "conditions": [
            {"bucket": server.state.storage.bucket},
            ["starts-with", "$key", prefix],
            {"success_action_status": "201"},
            {"Content-Type": "text/plain"},
            ["content-length-range", size, size],
            ["starts-with", format!("${checksum_field}"), ""],
            {"x-amz-algorithm": sigv4::ALGORITHM},
            {"x-amz-credential": credential},
            {"x-amz-date": amz_date},
        ],
    });
    let policy = base64::engine::general_purpose::STANDARD.encode(document.to_string());
    let key = sigv4::derive_signing_key(&credentials.secret_access_key, now, region, sigv4::SERVICE);
    let signature = sigv4::signature(&key, &policy);
    [
        ("key", format!("{prefix}${{filename}}")),
        ("Content-Type", "text/plain".to_owned()),
        ("success_action_status", "201".to_owned()),
        ("x-amz-algorithm", sigv4::ALGORITHM.to_owned()),
        ("x-amz-credential", credential),
        ("x-amz-date", amz_date),
        ("policy", policy),
        ("x-amz-signature", signature),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// The dev store maps keys to files of its own directory: even a key that a prefix policy lets
/// through, with `..` segments, stays inside it, stored under its literal key. (The signer's own
/// policies pin exact keys, so this needs a policy of another shape.)
#[tokio::test]
async fn dev_store_keys_never_leave_its_directory_under_a_prefix_policy() {
    let server = start(dev_settings(&[])).await;
    let dir = common::dev_store_dir(&server.state);
    let signed = server.sign("file", &[("x.txt", 5, "text/plain")]).await;
    let upload = signed.file(0);
    let folder = upload["key"].as_str().unwrap().rsplit_once('/').unwrap().0.to_owned();
    let mut fields = prefix_policy(&server, &format!("{folder}/"), 5).await;
    let escaping = format!("{folder}/../../../../escaped.txt");
    fields = replace(&fields, "key", &escaping);
    let (status, body) = error_text(server.upload(upload, &fields, "x.txt", b"hello".to_vec()).await).await;
    assert_eq!(status, 201, "{body}");
    assert!(!dir.parent().unwrap().join("escaped.txt").exists());
    assert!(walk(&dir).iter().all(|path| path.starts_with(&dir)));
    assert!(server.exists(&escaping).await, "the object exists under its literal key");
    // And `${filename}` in a prefix policy's key takes the posted file's name, as in S3.
    let fields = prefix_policy(&server, &format!("{folder}/"), 5).await;
    let response = server.upload(upload, &fields, "named.txt", b"hello".to_vec()).await;
    assert_eq!(response.status(), 201);
    assert!(server.exists(&format!("{folder}/named.txt")).await);
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
