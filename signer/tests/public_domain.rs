//! `AWS_S3_PUBLIC_DOMAIN` through finalize, on the dev store: download URLs name the public
//! domain (with `AWS_S3_URL_PROTOCOL`) in place of the endpoint, presigned or plain, and lose to
//! `AWS_S3_CUSTOM_DOMAIN`. `seaweedfs.rs` checks that a store accepts the presigned ones.

mod common;

use common::*;

const PUBLIC: &str = "files.example.test";

/// `url` fetched from the signer itself, with the public domain's host as the request's `Host`:
/// the path and query are the store's.
async fn fetch_through_public_host(server: &Server, url: &str) -> reqwest::Response {
    let path = url.strip_prefix(&format!("http://{PUBLIC}")).unwrap_or_else(|| panic!("{url}"));
    server.http.get(format!("{}{path}", server.url)).header("host", PUBLIC).send().await.unwrap()
}

#[tokio::test]
async fn presigned_download_urls_name_the_public_domain() {
    let server = start(dev_settings(&["--public-domain", PUBLIC, "--url-protocol", "http:"])).await;
    let stored = upload_and_finalize(&server, "a b.txt").await;
    let key = stored["key"].as_str().unwrap().replace(' ', "%20");
    let url = stored["url"].as_str().unwrap();
    let prefix = format!("http://{PUBLIC}/s3/s3file-dev/{key}?");
    assert!(url.starts_with(&prefix), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let downloaded = fetch_through_public_host(&server, url).await;
    assert_eq!(downloaded.status(), 200);
    assert_eq!(&downloaded.bytes().await.unwrap()[..], b"hello");
    // Uploads still go to the signer's own address.
    let signed = server.sign("file", &[("c.txt", 5, "text/plain")]).await;
    let upload_url = signed.file(0)["url"].as_str().unwrap().to_owned();
    assert!(!upload_url.contains(PUBLIC), "{upload_url}");
}

#[tokio::test]
async fn plain_download_urls_name_the_public_domain_with_the_url_protocol() {
    for (protocol, scheme) in [("https:", "https"), ("http:", "http")] {
        let args = ["--public-domain", PUBLIC, "--url-protocol", protocol, "--querystring-auth", "false"];
        let server = start(dev_settings(&args)).await;
        let stored = upload_and_finalize(&server, "b.txt").await;
        let key = stored["key"].as_str().unwrap();
        assert_eq!(stored["url"], format!("{scheme}://{PUBLIC}/s3/s3file-dev/{key}"));
    }
}

#[tokio::test]
async fn a_custom_domain_wins_over_the_public_domain() {
    let args = ["--public-domain", PUBLIC, "--custom-domain", "cdn.example.test"];
    let server = start(dev_settings(&args)).await;
    let stored = upload_and_finalize(&server, "c.txt").await;
    let key = stored["key"].as_str().unwrap();
    assert_eq!(stored["url"], format!("https://cdn.example.test/{key}"));
}
