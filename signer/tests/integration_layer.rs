//! An axum application behind `S3FileLayer`: its handler sees stored files and plain fields.

mod common;

use axum::routing::post;
use axum::{Form, Json, Router};
use common::*;
use s3file_signer::integration::{S3FileLayer, Uploads};
use serde_json::{json, Value};

#[derive(serde::Deserialize)]
struct Profile {
    name: String,
}

async fn save(uploads: Uploads, Form(profile): Form<Profile>) -> Json<Value> {
    let files: Vec<Value> = uploads
        .files("avatar")
        .iter()
        .map(|file| json!({"name": file.name, "key": file.key, "size": file.size}))
        .collect();
    Json(json!({"name": profile.name, "avatar": files}))
}

async fn app_behind_layer() -> (Server, String) {
    let server = start(dev_settings(&[])).await;
    let app = Router::new().route("/profile", post(save)).layer(S3FileLayer::new(server.state.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (server, url)
}

#[tokio::test]
async fn the_handler_receives_finalized_uploads_and_the_other_fields() {
    let (server, app) = app_behind_layer().await;
    let (signed, key) = uploaded_as_avatar(&server, "me.png", "image/png").await;
    let response = submit_profile(&server, &app, &key, signed.signature(), &[]).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["name"], "Ada");
    assert_eq!(body["avatar"][0]["name"], "me.png");
    assert_eq!(body["avatar"][0]["size"], 5);
    assert!(server.exists(body["avatar"][0]["key"].as_str().unwrap()).await);
}

#[tokio::test]
async fn a_forged_submission_never_reaches_the_handler() {
    let (server, app) = app_behind_layer().await;
    let signed = server.sign("avatar", &[("me.png", 5, "image/png")]).await;
    let forged = "tmp/s3file/AAAAAAAAAAAAAAAAAAAAAA/me.png";
    let response = submit_profile(&server, &app, forged, signed.signature(), &[]).await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn forms_without_s3file_fields_pass_through() {
    let (_server, app) = app_behind_layer().await;
    let response =
        reqwest::Client::new().post(format!("{app}/profile")).form(&[("name", "Ada")]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"name": "Ada", "avatar": []}));
}

#[tokio::test]
async fn the_layer_refuses_what_only_the_signer_may_write() {
    let (server, app) = app_behind_layer().await;
    let (signed, key) = uploaded_as_avatar(&server, "me.png", "image/png").await;
    let forged = r#"{"name":"x.png","key":"media/someone-elses.png","size":1}"#;
    let with_description =
        submit_profile(&server, &app, &key, signed.signature(), &[("avatar-s3file", forged)]).await;
    assert_eq!(with_description.status(), 400);
    let with_header = server
        .http
        .post(format!("{app}/profile"))
        .header("X-S3File-Signature", "t=1,v2=00")
        .form(&[("name", "Ada")])
        .send()
        .await
        .unwrap();
    assert_eq!(with_header.status(), 400);
    assert!(server.exists(&key).await, "nothing moved");
}

/// Signs and uploads `name`, five bytes of `content_type`, as the field `avatar`: what signed
/// it, and its key.
async fn uploaded_as_avatar(server: &Server, name: &str, content_type: &str) -> (Signed, String) {
    let signed = server.sign("avatar", &[(name, 5, content_type)]).await;
    let upload = signed.file(0);
    assert_eq!(server.upload(upload, &fields_of(upload), name, b"hello".to_vec()).await.status(), 201);
    let key = upload["key"].as_str().unwrap().to_owned();
    (signed, key)
}

/// Submits the profile form to the application at `app`: a name, and the avatar `key` under
/// `signature`, then the `extra` fields.
async fn submit_profile(
    server: &Server,
    app: &str,
    key: &str,
    signature: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form =
        vec![("name", "Ada"), ("s3file", "avatar"), ("avatar", key), ("avatar-s3f-signature", signature)];
    form.extend_from_slice(extra);
    server.http.post(format!("{app}/profile")).form(&form).send().await.unwrap()
}

#[tokio::test]
async fn the_applications_rules_bind_what_the_layer_finalizes() {
    use s3file_signer::field_rules::{FieldRules, Rule};
    let server = start(dev_settings(&[])).await;
    let avatar = Rule::new(1024).accepting("image/png").unwrap();
    let rules = FieldRules::new(Rule::new(1024 * 1024)).with_field("avatar", avatar);
    let app = Router::new()
        .route("/profile", post(save))
        .layer(S3FileLayer::new(server.state.clone()).with_rules(rules));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // The signer's own settings allow any type; the application's rule for `avatar` does not.
    let (signed, key) = uploaded_as_avatar(&server, "page.txt", "text/plain").await;
    let response = submit_profile(&server, &url, &key, signed.signature(), &[]).await;
    let (status, body) = error_text(response).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("page.txt"), "{body}");
    assert!(server.exists(&key).await, "nothing moved");
}
