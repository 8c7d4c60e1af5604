//! The thin shell over S3: the few operations finalize needs, through `aws-sdk-s3`.

use std::time::Duration;

use anyhow::Context;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

#[derive(Debug, Clone)]
pub struct Storage {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
}

/// What finalize reports about a stored object.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    pub size: u64,
    pub content_type: String,
}

/// `x-amz-copy-source` is a URL path: everything but unreserved characters and `/` is escaped.
const COPY_SOURCE: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

impl Storage {
    /// The object's size and type, or `None` if there is no such key.
    pub async fn head(&self, key: &str) -> anyhow::Result<Option<ObjectInfo>> {
        let result = self.client.head_object().bucket(&self.bucket).key(key).send().await;
        match result {
            Ok(head) => Ok(Some(ObjectInfo {
                size: head.content_length().unwrap_or_default().max(0) as u64,
                content_type: head.content_type().unwrap_or("application/octet-stream").to_owned(),
            })),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(error) => Err(anyhow::Error::new(error).context(format!("HEAD {key}"))),
        }
    }

    /// Server-side copy: the bytes stay in S3.
    pub async fn copy(&self, from: &str, to: &str) -> anyhow::Result<()> {
        let source = format!("{}/{}", self.bucket, utf8_percent_encode(from, COPY_SOURCE));
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(source)
            .key(to)
            .send()
            .await
            .with_context(|| format!("copy {from} to {to}"))?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .with_context(|| format!("delete {key}"))?;
        Ok(())
    }

    /// Stores a file the signer received itself (the no-JavaScript fallback).
    pub async fn put_file(
        &self,
        key: &str,
        path: &std::path::Path,
        content_type: &str,
    ) -> anyhow::Result<()> {
        let body = ByteStream::from_path(path).await.context("read spooled upload")?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(body)
            .send()
            .await
            .with_context(|| format!("put {key}"))?;
        Ok(())
    }

    /// A time-limited download URL.
    pub async fn presigned_get(&self, key: &str, expires_in: Duration) -> anyhow::Result<String> {
        let config = PresigningConfig::expires_in(expires_in).context("presigning expiry")?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .with_context(|| format!("presign GET {key}"))?;
        Ok(request.uri().to_owned())
    }
}
