//! The thin shell over S3: the few operations the handlers need, through `aws-sdk-s3`.

/// Sets the object parameters an upload carries (what a POST policy has as fields) on a
/// PutObject or CreateMultipartUpload request builder: their setters share names, not a trait.
macro_rules! with_upload_parameters {
    ($request:expr, $parameters:expr) => {{
        let parameters: &crate::object_parameters::ObjectParameters = $parameters;
        $request
            .set_cache_control(parameters.cache_control.clone())
            .set_content_disposition(parameters.content_disposition.clone())
            .set_content_encoding(parameters.content_encoding.clone())
            .set_content_language(parameters.content_language.clone())
            .set_server_side_encryption(parameters.server_side_encryption.as_deref().map(Into::into))
            .set_ssekms_key_id(parameters.sse_kms_key_id.clone())
            .set_metadata(
                (!parameters.metadata.is_empty()).then(|| parameters.metadata.clone().into_iter().collect()),
            )
    }};
}

/// Sets what only a finalized object gets (storage class, ACL, tags), as `copy` does.
macro_rules! with_final_parameters {
    ($request:expr, $parameters:expr) => {{
        let parameters: &crate::object_parameters::ObjectParameters = $parameters;
        $request
            .set_storage_class(parameters.storage_class.as_deref().map(Into::into))
            .set_acl(parameters.acl.as_deref().map(Into::into))
            .set_tagging(parameters.tagging.clone())
    }};
}

mod multipart;

pub use multipart::{Completion, PendingUpload, PresignedPut};

use std::time::Duration;

use crate::gzip::{ContentEncoding, GZIP};
use crate::keys::url_path;
use crate::object_parameters::ObjectParameters;
use anyhow::Context;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumMode;

#[derive(Debug, Clone)]
pub struct Storage {
    pub client: aws_sdk_s3::Client,
    /// Signs the URLs browsers upload to: the same client, or one configured with the public
    /// endpoint when browsers reach S3 at another address than the signer does.
    pub presigner: aws_sdk_s3::Client,
    /// Signs download URLs: the presigner, or one configured with `AWS_S3_PUBLIC_DOMAIN`.
    pub download_presigner: aws_sdk_s3::Client,
    pub bucket: String,
    pub parameters: ObjectParameters,
    /// Objects larger than this are copied in parts (CopyObject takes at most 5 GiB).
    pub single_copy_limit: u64,
    /// The part size of such copies.
    pub copy_part_size: u64,
}

/// An ETag without the quotes S3 puts around it.
pub(crate) fn unquoted(etag: &str) -> String {
    etag.trim_matches('"').to_owned()
}

/// What finalize reports about a stored object, and what its copy keeps.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// The stored bytes: for a gzip-compressed object, the compressed size.
    pub size: u64,
    pub content_type: String,
    /// Whether the bytes are gzip (`AWS_IS_GZIPPED`): a copy in parts sets it again, where a
    /// single CopyObject keeps it.
    pub content_encoding: ContentEncoding,
    /// The object's CRC-64/NVME as the store keeps it (base64), if it keeps one: an object
    /// completed with its whole-object checksum, or any object on AWS, which adds one.
    pub crc64nvme: Option<String>,
}

impl Storage {
    /// The object's size and type, or `None` if there is no such key.
    pub async fn head(&self, key: &str) -> anyhow::Result<Option<ObjectInfo>> {
        let result = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await;
        match result {
            Ok(head) => Ok(Some(ObjectInfo {
                size: head.content_length().unwrap_or_default().max(0) as u64,
                content_type: head.content_type().unwrap_or("application/octet-stream").to_owned(),
                content_encoding: match head.content_encoding() {
                    Some(encoding) if encoding.eq_ignore_ascii_case(GZIP) => ContentEncoding::Gzip,
                    _ => ContentEncoding::AsIs,
                },
                crc64nvme: head.checksum_crc64_nvme().map(str::to_owned),
            })),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(error) => Err(anyhow::Error::new(error).context(format!("HEAD {key}"))),
        }
    }

    /// Server-side copy of the object `info` describes, in one request or in parts by size.
    /// Answers the copy's ETag.
    pub async fn copy_object(
        &self,
        from: &str,
        to: &str,
        info: &ObjectInfo,
    ) -> anyhow::Result<Option<String>> {
        if info.size > self.single_copy_limit {
            self.copy_in_parts(from, to, info, self.copy_part_size).await
        } else {
            self.copy(from, to).await
        }
    }

    /// Server-side copy: the bytes stay in S3. Headers and metadata come along from the upload;
    /// what only the final object gets (storage class, ACL, tags, encryption) is set here.
    pub async fn copy(&self, from: &str, to: &str) -> anyhow::Result<Option<String>> {
        let source = format!("{}/{}", self.bucket, url_path(from));
        let parameters = &self.parameters;
        let mut request = self.client.copy_object().bucket(&self.bucket).copy_source(source).key(to);
        if let Some(class) = &parameters.storage_class {
            request = request.storage_class(class.as_str().into());
        }
        if let Some(acl) = &parameters.acl {
            request = request.acl(acl.as_str().into());
        }
        if let Some(encryption) = &parameters.server_side_encryption {
            request = request.server_side_encryption(encryption.as_str().into());
        }
        if let Some(key_id) = &parameters.sse_kms_key_id {
            request = request.ssekms_key_id(key_id);
        }
        if let Some(tagging) = &parameters.tagging {
            request =
                request.tagging(tagging).tagging_directive(aws_sdk_s3::types::TaggingDirective::Replace);
        }
        let copied = request.send().await.with_context(|| format!("copy {from} to {to}"))?;
        Ok(copied.copy_object_result().and_then(|result| result.e_tag()).map(unquoted))
    }

    /// The `Content-Encoding` an object is stored with: gzip for gzip bytes, else the object
    /// parameters' (which `AWS_IS_GZIPPED` excludes, so the two never meet).
    fn content_encoding(&self, encoding: ContentEncoding) -> Option<String> {
        encoding.header().map(str::to_owned).or_else(|| self.parameters.content_encoding.clone())
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

    /// Stores a file the signer received itself (the no-JavaScript fallback), its bytes as
    /// `info` describes them.
    pub async fn put_file(
        &self,
        key: &str,
        path: &std::path::Path,
        info: &ObjectInfo,
    ) -> anyhow::Result<Option<String>> {
        let body = ByteStream::from_path(path).await.context("read spooled upload")?;
        let request = self.client.put_object().bucket(&self.bucket).key(key).content_type(&info.content_type);
        let request =
            with_final_parameters!(with_upload_parameters!(request, &self.parameters), &self.parameters)
                .set_content_encoding(self.content_encoding(info.content_encoding));
        let stored = request.body(body).send().await.with_context(|| format!("put {key}"))?;
        Ok(stored.e_tag().map(unquoted))
    }

    /// A time-limited download URL.
    pub async fn presigned_get(&self, key: &str, expires_in: Duration) -> anyhow::Result<String> {
        let config = PresigningConfig::expires_in(expires_in).context("presigning expiry")?;
        let request = self
            .download_presigner
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .with_context(|| format!("presign GET {key}"))?;
        Ok(request.uri().to_owned())
    }
}
