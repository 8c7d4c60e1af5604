//! Finalize under attack: forms built to make the signer vouch for what it did not verify,
//! replace another user's object, or move half a form. Run against the dev store and SeaweedFS.

use std::collections::BTreeSet;

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use super::*;

/// Declares one `#[tokio::test]` per attack, each on a fresh signer from `$settings(&[])`.
#[macro_export]
macro_rules! finalize_attack_suite {
    ($settings:ident) => {
        $crate::finalize_attack_suite!($settings;
            a_listed_field_without_keys_is_refused;
            a_listed_field_without_a_signature_is_refused;
            names_the_signer_writes_are_refused;
            reserved_names_cannot_be_listed_as_fields;
            a_field_listed_twice_is_refused_and_nothing_moves;
            a_key_listed_twice_is_refused_and_nothing_moves;
            one_key_in_two_fields_is_refused;
            text_and_files_under_one_name_are_refused;
            two_users_with_the_same_file_name_get_two_objects;
            the_fallback_never_replaces_an_upload;
            concurrent_forms_with_one_file_name_keep_every_object;
            a_form_is_checked_whole_before_anything_moves;
        );
    };
    ($settings:ident; $($name:ident;)*) => {$(
        #[tokio::test]
        async fn $name() {
            common::finalize_attacks::$name(common::start(common::$settings(&[])).await).await;
        }
    )*};
}

/// A refused form: `status`, a message, and every key in `untouched` still in place.
async fn assert_refused(server: &Server, fields: &[(&str, &str)], status: u16, untouched: &[&str]) -> String {
    let (got, body) = error_text(server.finalize(fields).await).await;
    assert_eq!(got, status, "{body}");
    let message: Value = serde_json::from_str(&body).unwrap();
    let message = message["error"].as_str().unwrap().to_owned();
    assert!(!message.is_empty());
    for key in untouched {
        assert!(server.exists(key).await, "{key} must stay in place");
    }
    message
}

pub async fn a_listed_field_without_keys_is_refused(server: Server) {
    let (signed, key) = uploaded(&server, "kept.txt").await;
    // `avatar` is listed but carries no key, with a signature that was never issued for it: a
    // signer that checks signatures only per key would vouch for this field.
    let message = assert_refused(
        &server,
        &[
            ("s3file", "file"),
            ("file", &key),
            ("file-s3f-signature", signed.signature()),
            ("s3file", "avatar"),
            ("avatar-s3f-signature", "forged"),
        ],
        400,
        &[&key],
    )
    .await;
    assert!(message.contains("avatar"), "{message}");
}

pub async fn a_listed_field_without_a_signature_is_refused(server: Server) {
    let (_, key) = uploaded(&server, "unsigned.txt").await;
    assert_refused(&server, &[("s3file", "file"), ("file", &key)], 400, &[&key]).await;
}

pub async fn names_the_signer_writes_are_refused(server: Server) {
    let (signed, key) = uploaded(&server, "mine.txt").await;
    let forged = r#"{"name":"x.txt","key":"media/someone-elses.txt","size":1}"#;
    // With s3file's own fields, and in a form that lists nothing at all.
    for fields in [
        vec![
            ("s3file", "file"),
            ("file", key.as_str()),
            ("file-s3f-signature", signed.signature()),
            ("file-s3file", forged),
        ],
        vec![("title", "hello"), ("avatar-s3file", forged)],
    ] {
        let message = assert_refused(&server, &fields, 400, &[&key]).await;
        assert!(message.contains("-s3file"), "{message}");
    }
}

pub async fn reserved_names_cannot_be_listed_as_fields(server: Server) {
    let (signed, key) = uploaded(&server, "reserved.txt").await;
    for reserved in ["s3file", "file-s3f-signature", "file-s3file", ""] {
        assert_refused(
            &server,
            &[
                ("s3file", "file"),
                ("file", &key),
                ("file-s3f-signature", signed.signature()),
                ("s3file", reserved),
            ],
            400,
            &[&key],
        )
        .await;
    }
}

pub async fn a_field_listed_twice_is_refused_and_nothing_moves(server: Server) {
    let (signed, key) = uploaded(&server, "twice.txt").await;
    let (other_signed, other) = uploaded_as(&server, "other", "other.txt").await;
    // Not next to each other, so a check that only drops adjacent repeats misses it.
    assert_refused(
        &server,
        &[
            ("s3file", "file"),
            ("s3file", "other"),
            ("s3file", "file"),
            ("file", &key),
            ("file-s3f-signature", signed.signature()),
            ("other", &other),
            ("other-s3f-signature", other_signed.signature()),
        ],
        400,
        &[&key, &other],
    )
    .await;
}

pub async fn a_key_listed_twice_is_refused_and_nothing_moves(server: Server) {
    let (signed, key) = uploaded(&server, "dup.txt").await;
    assert_refused(
        &server,
        &[("s3file", "file"), ("file", &key), ("file", &key), ("file-s3f-signature", signed.signature())],
        400,
        &[&key],
    )
    .await;
}

pub async fn one_key_in_two_fields_is_refused(server: Server) {
    let (signed, key) = uploaded(&server, "shared.txt").await;
    assert_refused(
        &server,
        &[
            ("s3file", "file"),
            ("file", &key),
            ("file-s3f-signature", signed.signature()),
            ("s3file", "copy"),
            ("copy", &key),
            ("copy-s3f-signature", signed.signature()),
        ],
        400,
        &[&key],
    )
    .await;
}

pub async fn text_and_files_under_one_name_are_refused(server: Server) {
    // A text field with the name of a file field would reach the application beside the keys
    // the signer vouches for.
    let form = Form::new()
        .text("file", "media/someone-elses.txt")
        .part("file", Part::bytes(b"plain".to_vec()).file_name("plain.txt").mime_str("text/plain").unwrap());
    let response = server.finalize_multipart(form).await;
    let (status, body) = error_text(response).await;
    assert_eq!(status, 400, "{body}");
}

/// Finalizes `key` of field `file` and returns the stored file's description.
async fn finalized(server: &Server, signed: &Signed, key: &str) -> Value {
    let response = server
        .finalize(&[("s3file", "file"), ("file", key), ("file-s3f-signature", signed.signature())])
        .await;
    let (status, body) = error_text(response).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["files"]["file"][0].clone()
}

async fn read(server: &Server, key: &str) -> Vec<u8> {
    let object =
        server.state.storage.client.get_object().bucket(&server.state.storage.bucket).key(key).send().await;
    object.unwrap().body.collect().await.unwrap().into_bytes().to_vec()
}

/// Signs, uploads `bytes` as `name` in field `file` and returns what finalize stored.
async fn stored(server: &Server, name: &str, bytes: &[u8]) -> Value {
    let signed = server.sign("file", &[(name, bytes.len() as u64, "text/plain")]).await;
    let upload = signed.file(0);
    let response = server.upload(upload, &fields_of(upload), name, bytes.to_vec()).await;
    assert_eq!(response.status(), 201);
    finalized(server, &signed, upload["key"].as_str().unwrap()).await
}

pub async fn two_users_with_the_same_file_name_get_two_objects(server: Server) {
    let alice = stored(&server, "report.txt", b"alice").await;
    let mallory = stored(&server, "report.txt", b"mallory").await;
    assert_ne!(alice["key"], mallory["key"]);
    assert_eq!(read(&server, alice["key"].as_str().unwrap()).await, b"alice");
    assert_eq!(read(&server, mallory["key"].as_str().unwrap()).await, b"mallory");
    assert_eq!(alice["name"], "report.txt");
}

pub async fn the_fallback_never_replaces_an_upload(server: Server) {
    let alice = stored(&server, "notes.txt", b"alice").await;
    let form = Form::new().part(
        "file",
        Part::bytes(b"mallory".to_vec()).file_name("notes.txt").mime_str("text/plain").unwrap(),
    );
    let response = server.finalize_multipart(form).await;
    let (status, body) = error_text(response).await;
    assert_eq!(status, 200, "{body}");
    let mallory: Value = serde_json::from_str(&body).unwrap();
    assert_ne!(mallory["files"]["file"][0]["key"], alice["key"]);
    assert_eq!(read(&server, alice["key"].as_str().unwrap()).await, b"alice");
}

pub async fn concurrent_forms_with_one_file_name_keep_every_object(server: Server) {
    let server = std::sync::Arc::new(server);
    let mut forms = Vec::new();
    for user in 0..8 {
        let server = server.clone();
        forms.push(tokio::spawn(async move {
            let bytes = format!("user {user}").into_bytes();
            let signed = server.sign("file", &[("race.txt", bytes.len() as u64, "text/plain")]).await;
            let upload = signed.file(0);
            let response = server.upload(upload, &fields_of(upload), "race.txt", bytes.clone()).await;
            assert_eq!(response.status(), 201);
            let key = upload["key"].as_str().unwrap().to_owned();
            (bytes, signed, key)
        }));
    }
    let mut uploads = Vec::new();
    for form in forms {
        uploads.push(form.await.unwrap());
    }
    // Every finalize starts at once, so each one's look-ups happen before the others' copies.
    let finalizes = uploads.into_iter().map(|(bytes, signed, key)| {
        let server = server.clone();
        tokio::spawn(async move { (bytes, finalized(&server, &signed, &key).await) })
    });
    let mut keys = BTreeSet::new();
    for finalize in finalizes.collect::<Vec<_>>() {
        let (bytes, stored) = finalize.await.unwrap();
        let key = stored["key"].as_str().unwrap().to_owned();
        assert_eq!(read(&server, &key).await, bytes, "{key} holds what its own user uploaded");
        keys.insert(key);
    }
    assert_eq!(keys.len(), 8, "{keys:?}");
}

pub async fn a_form_is_checked_whole_before_anything_moves(server: Server) {
    let (signed, key) = uploaded(&server, "first.txt").await;
    let (gone_signed, gone) = uploaded_as(&server, "second", "gone.txt").await;
    server.state.storage.delete(&gone).await.unwrap();
    let message = assert_refused(
        &server,
        &[
            ("s3file", "file"),
            ("file", &key),
            ("file-s3f-signature", signed.signature()),
            ("s3file", "second"),
            ("second", &gone),
            ("second-s3f-signature", gone_signed.signature()),
        ],
        404,
        &[&key],
    )
    .await;
    assert!(message.contains("gone.txt"), "{message}");
}

/// As [`uploaded`], in another field.
async fn uploaded_as(server: &Server, field: &str, name: &str) -> (Signed, String) {
    let signed = server.sign(field, &[(name, 5, "text/plain")]).await;
    let upload = signed.file(0);
    let response = server.upload(upload, &fields_of(upload), name, b"hello".to_vec()).await;
    assert_eq!(response.status(), 201);
    let key = upload["key"].as_str().unwrap().to_owned();
    (signed, key)
}
