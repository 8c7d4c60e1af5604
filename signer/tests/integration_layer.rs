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
    let signed = server.sign("avatar", &[("me.png", 5, "image/png")]).await;
    let upload = signed.file(0);
    assert_eq!(server.upload(upload, &fields_of(upload), "me.png", b"hello".to_vec()).await.status(), 201);
    let key = upload["key"].as_str().unwrap();
    let response = server
        .http
        .post(format!("{app}/profile"))
        .form(&[
            ("name", "Ada"),
            ("s3file", "avatar"),
            ("avatar", key),
            ("avatar-s3f-signature", signed.signature()),
        ])
        .send()
        .await
        .unwrap();
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
    let response = server
        .http
        .post(format!("{app}/profile"))
        .form(&[
            ("name", "Ada"),
            ("s3file", "avatar"),
            ("avatar", forged),
            ("avatar-s3f-signature", signed.signature()),
        ])
        .send()
        .await
        .unwrap();
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
