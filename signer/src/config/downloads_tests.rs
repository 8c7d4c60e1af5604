//! Which download URLs the settings choose: django-storages' precedence of
//! `AWS_S3_CUSTOM_DOMAIN` (CloudFront-signed with a key), `AWS_S3_PUBLIC_DOMAIN` and the
//! endpoint, with `AWS_S3_URL_PROTOCOL` and `AWS_QUERYSTRING_AUTH`; and the CloudFront key's
//! refusals.

use super::*;
use crate::s3_url;

const KEY: &str = "media/a b.txt";
const PKCS1: &str = include_str!("../../tests/fixtures/cloudfront/rsa2048.pkcs1.pem");
const PKCS8: &str = include_str!("../../tests/fixtures/cloudfront/rsa2048.pkcs8.pem");
const EC: &str = include_str!("../../tests/fixtures/cloudfront/ec-p256.pem");

fn settings(args: &[&str]) -> Settings {
    let mut argv =
        vec!["s3file-signer", "--bucket-name", "files", "--secret-key", "0123456789abcdef0123456789abcdef"];
    argv.extend_from_slice(args);
    <Cli as clap::Parser>::try_parse_from(argv).unwrap().settings
}

/// What the settings make of a download URL of [`KEY`], in words: the URL itself when it is
/// plain, where and for how long when it is signed. The endpoints are those of the S3 store, as
/// `state.rs` combines them with `s3_url`.
fn choice(args: &[&str]) -> String {
    let config = Config::from_settings(&settings(args)).unwrap();
    let Store::S3(s3) = &config.store else { panic!("an S3 store") };
    let browser_endpoint = s3.public_endpoint_url.as_deref().or(s3.endpoint_url.as_deref());
    let region = s3.region.as_deref().unwrap_or(DEFAULT_REGION);
    let bucket_url = |host: &BucketHost| {
        let endpoint = s3_url::download_endpoint(host, browser_endpoint);
        s3_url::bucket_url(endpoint, &s3.bucket, region, s3.addressing_style, s3.use_ssl)
    };
    match &config.downloads {
        Downloads::CustomDomain { protocol, domain } => {
            format!("plain {}", s3_url::custom_domain_url(protocol, domain, KEY))
        }
        Downloads::CloudFront { protocol, domain, signer, expire } => format!(
            "CloudFront {} by {} for {}s",
            s3_url::custom_domain_url(protocol, domain, KEY),
            signer.key_pair_id(),
            expire.as_secs()
        ),
        Downloads::Public { host } => format!("plain {}", s3_url::object_url(&bucket_url(host), KEY)),
        Downloads::Presigned { host, expire } => {
            format!("presigned at {} for {}s", bucket_url(host), expire.as_secs())
        }
    }
}

#[test]
fn download_urls_follow_django_storages_precedence() {
    let minio = ["--endpoint-url", "http://minio:9000"];
    let cases: &[(&[&str], &str)] = &[
        (&[], "presigned at https://files.s3.us-east-1.amazonaws.com for 3600s"),
        (&["--querystring-auth", "false"], "plain https://files.s3.us-east-1.amazonaws.com/media/a%20b.txt"),
        (&["--querystring-expire", "60"], "presigned at https://files.s3.us-east-1.amazonaws.com for 60s"),
        (&minio, "presigned at http://minio:9000/files for 3600s"),
        // The endpoint browsers upload to serves downloads too, unless a public domain is set.
        (
            &[minio[0], minio[1], "--public-endpoint-url", "http://localhost:9000"],
            "presigned at http://localhost:9000/files for 3600s",
        ),
        (&[minio[0], minio[1], "--public-domain", "files.example.com"], "presigned at https://files.example.com/files for 3600s"),
        (
            &[minio[0], minio[1], "--public-endpoint-url", "http://localhost:9000", "--public-domain", "files.example.com"],
            "presigned at https://files.example.com/files for 3600s",
        ),
        (
            &[minio[0], minio[1], "--public-domain", "localhost:9000", "--url-protocol", "http:", "--querystring-auth", "false"],
            "plain http://localhost:9000/files/media/a%20b.txt",
        ),
        // On AWS the bucket is a host name of the public domain, as of AWS's own, unless path style.
        (&["--public-domain", "s3.example.com"], "presigned at https://files.s3.example.com for 3600s"),
        (
            &["--public-domain", "s3.example.com", "--addressing-style", "path"],
            "presigned at https://s3.example.com/files for 3600s",
        ),
        // AWS_S3_URL_PROTOCOL applies to the domains only, not to the endpoint.
        (&[minio[0], minio[1], "--url-protocol", "https:"], "presigned at http://minio:9000/files for 3600s"),
        // A custom domain wins over the public domain, and is unsigned without a CloudFront key,
        // whatever AWS_QUERYSTRING_AUTH says (as in django-storages).
        (&["--custom-domain", "cdn.example.com"], "plain https://cdn.example.com/media/a%20b.txt"),
        (
            &["--custom-domain", "cdn.example.com", "--public-domain", "files.example.com", "--url-protocol", "http:"],
            "plain http://cdn.example.com/media/a%20b.txt",
        ),
        (
            &["--custom-domain", "cdn.example.com", "--cloudfront-key", PKCS1, "--cloudfront-key-id", "K2JCJMDEHXQW5F"],
            "CloudFront https://cdn.example.com/media/a%20b.txt by K2JCJMDEHXQW5F for 3600s",
        ),
        (
            &[
                "--custom-domain",
                "d111111abcdef8.cloudfront.net",
                "--public-domain",
                "files.example.com",
                "--cloudfront-key",
                PKCS8,
                "--cloudfront-key-id",
                "APKAEIBAERJR2EXAMPLE",
                "--querystring-expire",
                "60",
            ],
            "CloudFront https://d111111abcdef8.cloudfront.net/media/a%20b.txt by APKAEIBAERJR2EXAMPLE for 60s",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(choice(args), *expected, "{args:?}");
    }
}

#[test]
fn the_dev_store_serves_downloads_on_the_public_domain_too() {
    let argv = ["s3file-signer", "--dev", "--public-domain", "localhost:8000"];
    let settings = <Cli as clap::Parser>::try_parse_from(argv).unwrap().settings;
    let config = Config::from_settings(&settings).unwrap();
    assert_eq!(
        config.downloads.bucket_host(),
        &BucketHost::PublicDomain { origin: "https://localhost:8000".to_owned() }
    );
}

/// Every error the settings give, joined.
fn errors(args: &[&str]) -> String {
    settings(args).errors().join("\n")
}

#[test]
fn a_cloudfront_key_needs_its_id_a_custom_domain_and_querystring_auth() {
    let cdn = ["--custom-domain", "cdn.example.com"];
    let cases: &[(&[&str], &str)] = &[
        (
            &[cdn[0], cdn[1], "--cloudfront-key", PKCS1],
            "set both AWS_CLOUDFRONT_KEY and AWS_CLOUDFRONT_KEY_ID",
        ),
        (
            &[cdn[0], cdn[1], "--cloudfront-key-id", "K1"],
            "set both AWS_CLOUDFRONT_KEY and AWS_CLOUDFRONT_KEY_ID",
        ),
        (&["--cloudfront-key", PKCS1, "--cloudfront-key-id", "K1"], "set AWS_S3_CUSTOM_DOMAIN"),
        (
            &["--cloudfront-key", PKCS1, "--cloudfront-key-id", "K1", "--public-domain", "files.example.com"],
            "set AWS_S3_CUSTOM_DOMAIN",
        ),
        (
            &[
                cdn[0],
                cdn[1],
                "--cloudfront-key",
                PKCS1,
                "--cloudfront-key-id",
                "K1",
                "--querystring-auth",
                "false",
            ],
            "AWS_QUERYSTRING_AUTH is false",
        ),
        (
            &[cdn[0], cdn[1], "--cloudfront-key", "garbage", "--cloudfront-key-id", "K1"],
            "AWS_CLOUDFRONT_KEY is not a PEM",
        ),
        (
            &[cdn[0], cdn[1], "--cloudfront-key", &PKCS1[..900], "--cloudfront-key-id", "K1"],
            "AWS_CLOUDFRONT_KEY cannot be read",
        ),
        (
            &[cdn[0], cdn[1], "--cloudfront-key", EC, "--cloudfront-key-id", "K1"],
            "AWS_CLOUDFRONT_KEY is a PEM \"EC PRIVATE KEY\"",
        ),
        (
            &[cdn[0], cdn[1], "--cloudfront-key", PKCS1, "--cloudfront-key-id", "K 1"],
            "AWS_CLOUDFRONT_KEY_ID must be",
        ),
    ];
    for (args, expected) in cases {
        let errors = errors(args);
        assert!(errors.contains(expected), "{args:?}: {errors}");
    }
    // Every problem at once: the key's own, and what it lacks.
    let all =
        errors(&["--cloudfront-key", "garbage", "--cloudfront-key-id", "K1", "--querystring-auth", "false"]);
    for expected in ["not a PEM", "set AWS_S3_CUSTOM_DOMAIN", "AWS_QUERYSTRING_AUTH is false"] {
        assert!(all.contains(expected), "{all}");
    }
}

#[test]
fn a_public_domain_is_a_bare_domain() {
    for bad in [
        "",
        "https://files.example.com",
        "files.example.com/",
        "files example.com",
        "files.example.com?x",
        "/files",
    ] {
        let errors = errors(&["--public-domain", bad]);
        assert!(errors.contains("AWS_S3_PUBLIC_DOMAIN must be a bare domain"), "{bad:?}: {errors}");
    }
    for good in ["files.example.com", "localhost:9000", "example.com/s3"] {
        assert_eq!(errors(&["--public-domain", good]), "", "{good:?}");
    }
}

#[test]
fn the_deploy_check_signs_with_the_key_and_warns_about_plain_http_domains() {
    let warnings = |args: &[&str]| Config::from_settings(&settings(args)).unwrap().deploy_warnings();
    let cloudfront =
        ["--custom-domain", "cdn.example.com", "--cloudfront-key", PKCS8, "--cloudfront-key-id", "K1"];
    assert_eq!(warnings(&cloudfront), Vec::<String>::new());
    let mut plain = cloudfront.to_vec();
    plain.extend(["--url-protocol", "http:"]);
    assert!(
        warnings(&plain).iter().any(|w| w.contains("AWS_S3_URL_PROTOCOL is http:")),
        "{:?}",
        warnings(&plain)
    );
    let public = warnings(&["--public-domain", "files.example.com", "--url-protocol", "http:"]);
    assert!(public.iter().any(|w| w.contains("AWS_S3_URL_PROTOCOL is http:")), "{public:?}");
    assert_eq!(warnings(&["--public-domain", "files.example.com"]), Vec::<String>::new());
}

#[test]
fn the_cloudfront_key_comes_from_a_settings_file_too() {
    let toml = format!(
        "custom_domain = \"cdn.example.com\"\ncloudfront_key_id = \"K2JCJMDEHXQW5F\"\ncloudfront_key = \"\"\"\n{PKCS1}\"\"\"\n"
    );
    let file_args = crate::config_file::args_from_toml(&toml).unwrap();
    let mut argv = vec!["s3file-signer".to_owned(), "--bucket-name".to_owned(), "files".to_owned()];
    argv.extend(["--secret-key".to_owned(), "0123456789abcdef0123456789abcdef".to_owned()]);
    let argv = crate::config_file::with_file_args(&argv, file_args);
    let settings = <Cli as clap::Parser>::try_parse_from(argv).unwrap().settings;
    let config = Config::from_settings(&settings).unwrap();
    let Downloads::CloudFront { signer, .. } = &config.downloads else { panic!("{:?}", config.downloads) };
    assert_eq!(signer.key_pair_id(), "K2JCJMDEHXQW5F");
}
