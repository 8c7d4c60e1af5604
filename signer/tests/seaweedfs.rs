//! The store suite against SeaweedFS, a real S3 server that checks POST policies, started by
//! `cargo xtask test`.

mod common;

store_suite!(seaweedfs_settings);
s3_api_suite!(seaweedfs_settings);
finalize_attack_suite!(seaweedfs_settings);
gzip_suite!(seaweedfs_settings);

/// The signer reaches S3 at one address, browsers at another: POST URLs and download URLs must
/// name the public one, and work there.
#[tokio::test]
async fn browsers_get_the_public_endpoint() {
    let endpoint = std::env::var("S3FILE_TEST_S3_ENDPOINT").expect("S3FILE_TEST_S3_ENDPOINT");
    let public = endpoint.replace("127.0.0.1", "localhost");
    assert_ne!(public, endpoint, "the test endpoint is expected on 127.0.0.1");
    let server = common::start(common::seaweedfs_settings(&["--public-endpoint-url", &public])).await;
    let signed = server.sign("file", &[("a.txt", 5, "text/plain")]).await;
    assert!(signed.file(0)["url"].as_str().unwrap().starts_with(&public));
    let stored = common::upload_and_finalize(&server, "b.txt").await;
    let url = stored["url"].as_str().unwrap();
    assert!(url.starts_with(&public), "{url}");
    let downloaded = server.http.get(url).send().await.unwrap();
    assert_eq!(downloaded.status(), 200);
    assert_eq!(&downloaded.bytes().await.unwrap()[..], b"hello");
}

/// `AWS_S3_PUBLIC_DOMAIN`: the signer reaches S3 at its endpoint, download URLs name the public
/// domain, and SeaweedFS takes their signature there, and only there: the signature binds the
/// host it names.
#[tokio::test]
async fn presigned_download_urls_are_signed_for_the_public_domain() {
    let endpoint = std::env::var("S3FILE_TEST_S3_ENDPOINT").expect("S3FILE_TEST_S3_ENDPOINT");
    let internal_host = endpoint.strip_prefix("http://").expect("a plain http:// test endpoint");
    let public_domain = internal_host.replace("127.0.0.1", "localhost");
    assert_ne!(public_domain, internal_host, "the test endpoint is expected on 127.0.0.1");
    let args = ["--public-domain", public_domain.as_str(), "--url-protocol", "http:"];
    let server = common::start(common::seaweedfs_settings(&args)).await;
    let signed = server.sign("file", &[("a.txt", 5, "text/plain")]).await;
    assert!(signed.file(0)["url"].as_str().unwrap().starts_with(&endpoint), "uploads stay on the endpoint");
    let stored = common::upload_and_finalize(&server, "b.txt").await;
    let url = stored["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("http://{public_domain}/")), "{url}");
    let downloaded = server.http.get(url).send().await.unwrap();
    assert_eq!(downloaded.status(), 200);
    assert_eq!(&downloaded.bytes().await.unwrap()[..], b"hello");
    let elsewhere = url.replacen(&public_domain, internal_host, 1);
    assert_eq!(server.http.get(elsewhere).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn replicas_finalize_what_another_signed() {
    let a = common::seaweedfs_settings(&[]);
    // The same location and upload path: one service, two processes.
    let b_args = ["--location", a.location.as_str(), "--upload-path", a.upload_path.as_str()];
    let b = common::seaweedfs_settings(&b_args);
    common::replicas_finalize_what_another_signed(common::start(a).await, common::start(b).await).await;
}

/// `check --deploy` reads the bucket's CORS configuration: ETag must be exposed, and PUTs may
/// carry Content-MD5.
#[tokio::test]
async fn the_deploy_check_reads_the_buckets_cors_rules() {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    let server = common::start(common::seaweedfs_settings(&[])).await;
    let storage = &server.state.storage;
    let put_rule = |allow: &'static str, expose: &'static [&'static str]| {
        let rule = CorsRule::builder()
            .allowed_origins("*")
            .allowed_methods("POST")
            .allowed_methods("PUT")
            .allowed_headers(allow)
            .set_expose_headers(Some(expose.iter().map(|h| h.to_string()).collect()))
            .build()
            .unwrap();
        storage
            .client
            .put_bucket_cors()
            .bucket(&storage.bucket)
            .cors_configuration(CorsConfiguration::builder().cors_rules(rule).build().unwrap())
            .send()
    };
    put_rule("*", &["x-amz-request-id"]).await.unwrap();
    let warnings = s3file_signer::deploy::bucket_warnings(&server.state).await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("ETag"));
    put_rule("content-type", &["ETag"]).await.unwrap();
    let warnings = s3file_signer::deploy::bucket_warnings(&server.state).await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("Content-MD5"));
    put_rule("*", &["ETag"]).await.unwrap();
    let with_etag = s3file_signer::deploy::bucket_warnings(&server.state).await;
    // The bucket is shared with the browser tests: give it back its server-wide CORS behaviour.
    storage.client.delete_bucket_cors().bucket(&storage.bucket).send().await.unwrap();
    assert_eq!(with_etag, Vec::<String>::new());
}

/// Credentials come from a provider that counts its fetches and takes 100 ms, like an instance
/// metadata endpoint: a hundred signatures and a finalize cost one fetch, not one each.
#[tokio::test]
async fn credentials_are_fetched_once_for_many_requests() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};

    #[derive(Debug)]
    struct SlowCountingProvider {
        fetches: Arc<AtomicUsize>,
        id: String,
        secret: String,
    }

    impl ProvideCredentials for SlowCountingProvider {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            let credentials = aws_credential_types::Credentials::new(
                &self.id,
                &self.secret,
                None,
                Some(SystemTime::now() + Duration::from_secs(3600)),
                "slow-counting",
            );
            future::ProvideCredentials::new(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(credentials)
            })
        }
    }

    let fetches = Arc::new(AtomicUsize::new(0));
    let provider = SlowCountingProvider {
        fetches: fetches.clone(),
        id: std::env::var("S3FILE_TEST_S3_ACCESS_KEY").unwrap(),
        secret: std::env::var("S3FILE_TEST_S3_SECRET_KEY").unwrap(),
    };
    let server = common::start_with_credentials(
        common::seaweedfs_settings(&[]),
        SharedCredentialsProvider::new(provider),
    )
    .await;
    for _ in 0..100 {
        let files = serde_json::json!({"field": "f", "files": [{"name": "a", "size": 1, "type": ""}]});
        assert_eq!(server.sign_raw(files).await.status(), 200);
    }
    let stored = common::upload_and_finalize(&server, "counted.txt").await;
    assert!(server.exists(stored["key"].as_str().unwrap()).await);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}
