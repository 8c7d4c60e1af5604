//! Every URL of S3 the signer builds: where the signer's client goes, where browsers POST, and
//! where a stored object is downloaded from.

use crate::config::{AddressingStyle, BucketHost};
use crate::keys;

/// AWS's own endpoint for `region` over plain HTTP, for `AWS_S3_USE_SSL=false` without an
/// endpoint URL (the SDK's default is HTTPS).
pub fn aws_http_endpoint(region: &str) -> String {
    format!("http://s3.{region}.amazonaws.com")
}

/// The URL browsers POST uploads to, for a real S3 endpoint: `endpoint_url` (else AWS's for
/// `region`) with the bucket in the path or in the host.
pub fn bucket_url(
    endpoint_url: Option<&str>,
    bucket: &str,
    region: &str,
    style: AddressingStyle,
    use_ssl: bool,
) -> String {
    let scheme = if use_ssl { "https" } else { "http" };
    match (endpoint_url.map(|url| url.trim_end_matches('/')), style) {
        (Some(endpoint), AddressingStyle::Path) => format!("{endpoint}/{bucket}"),
        (Some(endpoint), AddressingStyle::Virtual) => match endpoint.split_once("://") {
            Some((scheme, host)) => format!("{scheme}://{bucket}.{host}"),
            None => format!("{endpoint}/{bucket}"),
        },
        (None, AddressingStyle::Path) => format!("{scheme}://s3.{region}.amazonaws.com/{bucket}"),
        (None, AddressingStyle::Virtual) => format!("{scheme}://{bucket}.s3.{region}.amazonaws.com"),
    }
}

/// The dev store's endpoint on the signer at `origin` (`http://host:port`, or the origin of
/// `AWS_S3_PUBLIC_DOMAIN`). The trailing slash matters: the SDK appends `bucket/key` to the
/// endpoint's path as it is.
pub fn dev_store_endpoint(origin: &str) -> String {
    format!("{origin}/s3/")
}

/// The dev store's `bucket` on the signer at `origin`.
pub fn dev_store_bucket_url(origin: &str, bucket: &str) -> String {
    format!("{}{bucket}", dev_store_endpoint(origin))
}

/// The endpoint download URLs of the bucket are made at, by django-storages' precedence after
/// the custom domain: `AWS_S3_PUBLIC_DOMAIN`'s origin, else the endpoint browsers upload to
/// (`None`: AWS's own for the region).
pub fn download_endpoint<'a>(host: &'a BucketHost, browser_endpoint: Option<&'a str>) -> Option<&'a str> {
    match host {
        BucketHost::PublicDomain { origin } => Some(origin.as_str()),
        BucketHost::Endpoint => browser_endpoint,
    }
}

/// The plain URL of `key` in the bucket at `bucket_url`.
pub fn object_url(bucket_url: &str, key: &str) -> String {
    format!("{bucket_url}/{}", keys::url_path(key))
}

/// The URL of `key` on a domain that serves the bucket, such as a CDN (`protocol` is `https:`
/// or `http:`).
pub fn custom_domain_url(protocol: &str, domain: &str, key: &str) -> String {
    format!("{protocol}//{domain}/{}", keys::url_path(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_urls_follow_the_addressing_style() {
        use AddressingStyle::*;
        assert_eq!(bucket_url(None, "b", "eu-west-1", Virtual, true), "https://b.s3.eu-west-1.amazonaws.com");
        assert_eq!(bucket_url(None, "b", "eu-west-1", Path, true), "https://s3.eu-west-1.amazonaws.com/b");
        assert_eq!(bucket_url(None, "b", "eu-west-1", Path, false), "http://s3.eu-west-1.amazonaws.com/b");
        assert_eq!(
            bucket_url(Some("http://127.0.0.1:8333/"), "b", "us-east-1", Path, true),
            "http://127.0.0.1:8333/b"
        );
        assert_eq!(
            bucket_url(Some("https://minio.example"), "b", "us-east-1", Virtual, true),
            "https://b.minio.example"
        );
    }

    #[test]
    fn download_urls_name_the_public_domain_before_the_endpoint() {
        let public = BucketHost::PublicDomain { origin: "https://files.example.com".to_owned() };
        assert_eq!(download_endpoint(&public, Some("http://minio:9000")), Some("https://files.example.com"));
        assert_eq!(download_endpoint(&public, None), Some("https://files.example.com"));
        assert_eq!(
            download_endpoint(&BucketHost::Endpoint, Some("http://minio:9000")),
            Some("http://minio:9000")
        );
        assert_eq!(download_endpoint(&BucketHost::Endpoint, None), None);
        assert_eq!(
            dev_store_bucket_url("https://files.example.com", "s3file-dev"),
            "https://files.example.com/s3/s3file-dev"
        );
    }

    #[test]
    fn object_urls_encode_the_key_as_a_path() {
        assert_eq!(
            object_url("https://b.s3.amazonaws.com", "media/a b/ü.txt"),
            "https://b.s3.amazonaws.com/media/a%20b/%C3%BC.txt"
        );
        assert_eq!(custom_domain_url("https:", "cdn.example.com", "a.txt"), "https://cdn.example.com/a.txt");
        assert_eq!(
            dev_store_bucket_url("http://127.0.0.1:8000", "s3file-dev"),
            "http://127.0.0.1:8000/s3/s3file-dev"
        );
    }
}
