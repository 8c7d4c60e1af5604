//! Multipart uploads and presigned PUTs: the S3 calls behind the parts, complete and abort
//! endpoints, and the multipart copy finalize needs for objects over 5 GiB.

use std::time::{Duration, SystemTime};

use anyhow::Context;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumType, CompletedMultipartUpload, CompletedPart};

use super::{ObjectInfo, Storage};
use crate::gzip::ContentEncoding;
use crate::keys::url_path;
use crate::multipart_ticket::WholeChecksum;
use crate::part_plan::{ListedPart, PartPlan};
use crate::whole_checksum::Crc64Nvme;

/// How a CompleteMultipartUpload ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// Completed; the object's ETag, when the store gave one.
    Completed(Option<String>),
    /// The store refused the whole-object checksum (`BadDigest`): the parts it holds are not
    /// the bytes the browser read. The upload is still in progress.
    ChecksumMismatch,
}

/// A presigned request a browser sends as is: the URL, and the headers it must carry (those
/// the signature covers, apart from the ones the browser sets itself).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PresignedPut {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// A multipart upload in progress, as ListMultipartUploads reports it.
#[derive(Debug, Clone)]
pub struct PendingUpload {
    pub key: String,
    pub upload_id: String,
    pub initiated: Option<SystemTime>,
}

/// Headers a browser may not set (XHR refuses them) and sends correctly anyway.
fn browser_sets(name: &str) -> bool {
    matches!(name, "host" | "content-length")
}

fn presigned(request: aws_sdk_s3::presigning::PresignedRequest) -> PresignedPut {
    let headers = request
        .headers()
        .filter(|(name, _)| !browser_sets(&name.to_ascii_lowercase()))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    PresignedPut { url: request.uri().to_owned(), headers }
}

impl Storage {
    /// Starts a multipart upload with the object's type and upload-time parameters (what a
    /// POST upload would carry as policy fields), and, with `whole_checksum`, asks the store to
    /// keep the object's CRC-64/NVME (full object, not composite), which completion then checks.
    pub async fn create_multipart(
        &self,
        key: &str,
        content_type: &str,
        whole_checksum: WholeChecksum,
    ) -> anyhow::Result<String> {
        self.start_multipart(key, content_type, ContentEncoding::AsIs, false, whole_checksum).await
    }

    /// `final_object`: also what only a finalized object gets (storage class, ACL, tags), as
    /// CopyObject sets them in `copy`.
    async fn start_multipart(
        &self,
        key: &str,
        content_type: &str,
        encoding: ContentEncoding,
        final_object: bool,
        whole_checksum: WholeChecksum,
    ) -> anyhow::Result<String> {
        let mut request =
            self.client.create_multipart_upload().bucket(&self.bucket).key(key).content_type(content_type);
        if whole_checksum == WholeChecksum::Crc64Nvme {
            // Parts need no checksum of their own: the store computes each part's CRC.
            request = request
                .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
                .checksum_type(ChecksumType::FullObject);
        }
        if final_object {
            request = with_final_parameters!(request, &self.parameters);
        }
        let created = with_upload_parameters!(request, &self.parameters)
            .set_content_encoding(self.content_encoding(encoding))
            .send()
            .await
            .with_context(|| format!("create multipart upload {key}"))?;
        created.upload_id().map(str::to_owned).context("CreateMultipartUpload answered no upload id")
    }

    /// A URL for one part; its exact length is signed, so only that many bytes are accepted.
    pub async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u64,
        length: u64,
        expires_in: Duration,
    ) -> anyhow::Result<PresignedPut> {
        let config = PresigningConfig::expires_in(expires_in).context("presigning expiry")?;
        let request = self
            .presigner
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(i32::try_from(number).context("part number")?)
            .content_length(i64::try_from(length).context("part length")?)
            .presigned(config)
            .await
            .with_context(|| format!("presign part {number} of {key}"))?;
        Ok(presigned(request))
    }

    /// A single PUT of a whole file, for stores without POST uploads; its type, length and
    /// upload-time parameters are signed.
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> anyhow::Result<PresignedPut> {
        let config = PresigningConfig::expires_in(expires_in).context("presigning expiry")?;
        let request = self
            .presigner
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(i64::try_from(length).context("file length")?);
        let request = with_upload_parameters!(request, &self.parameters)
            .presigned(config)
            .await
            .with_context(|| format!("presign PUT {key}"))?;
        Ok(presigned(request))
    }

    /// Every part S3 holds for an upload, or `None` if there is no such upload (completed,
    /// aborted or never started).
    pub async fn list_parts(&self, key: &str, upload_id: &str) -> anyhow::Result<Option<Vec<ListedPart>>> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let result = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker.clone())
                .send()
                .await;
            let page = match result {
                Ok(page) => page,
                Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                    return Ok(None)
                }
                Err(error) => return Err(anyhow::Error::new(error).context(format!("list parts of {key}"))),
            };
            for part in page.parts() {
                parts.push(ListedPart {
                    number: part.part_number().unwrap_or_default().max(0) as u64,
                    size: part.size().unwrap_or_default().max(0) as u64,
                    etag: part.e_tag().unwrap_or_default().to_owned(),
                });
            }
            match (page.is_truncated(), page.next_part_number_marker()) {
                (Some(true), Some(next)) if marker.as_deref() != Some(next) => marker = Some(next.to_owned()),
                _ => return Ok(Some(parts)),
            }
        }
    }

    /// Completes an upload from `parts`, with the object's CRC-64/NVME for the store to check
    /// when given (an upload created with it); answers the object's ETag, or that the store
    /// found another checksum.
    pub async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[ListedPart],
        whole: Option<Crc64Nvme>,
    ) -> anyhow::Result<Completion> {
        let completed = parts
            .iter()
            .map(|part| CompletedPart::builder().part_number(part.number as i32).e_tag(&part.etag).build())
            .collect();
        let mut request = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(completed)).build());
        if let Some(whole) = whole {
            request = request.checksum_crc64_nvme(whole.to_base64()).checksum_type(ChecksumType::FullObject);
        }
        match request.send().await {
            Ok(completed) => Ok(Completion::Completed(completed.e_tag().map(super::unquoted))),
            Err(error) if error.as_service_error().and_then(|e| e.meta().code()) == Some("BadDigest") => {
                Ok(Completion::ChecksumMismatch)
            }
            Err(error) => Err(anyhow::Error::new(error).context(format!("complete multipart upload {key}"))),
        }
    }

    /// Aborts an upload; one that no longer exists counts as aborted.
    pub async fn abort_multipart(&self, key: &str, upload_id: &str) -> anyhow::Result<()> {
        let result = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(()),
            Err(error) => Err(anyhow::Error::new(error).context(format!("abort multipart upload {key}"))),
        }
    }

    /// Multipart uploads in progress under `prefix`.
    pub async fn pending_uploads(&self, prefix: &str) -> anyhow::Result<Vec<PendingUpload>> {
        let mut uploads = Vec::new();
        let (mut key_marker, mut id_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_key_marker(key_marker.clone())
                .set_upload_id_marker(id_marker.clone())
                .send()
                .await
                .with_context(|| format!("list multipart uploads under {prefix}"))?;
            for upload in page.uploads() {
                let (Some(key), Some(upload_id)) = (upload.key(), upload.upload_id()) else { continue };
                uploads.push(PendingUpload {
                    key: key.to_owned(),
                    upload_id: upload_id.to_owned(),
                    initiated: upload.initiated().and_then(|at| SystemTime::try_from(*at).ok()),
                });
            }
            let next =
                (page.next_key_marker().map(str::to_owned), page.next_upload_id_marker().map(str::to_owned));
            if page.is_truncated() != Some(true)
                || next.0.is_none()
                || (next.0.clone(), next.1.clone()) == (key_marker, id_marker)
            {
                return Ok(uploads);
            }
            (key_marker, id_marker) = next;
        }
    }

    /// A server-side copy in parts, for objects larger than one CopyObject takes (5 GiB).
    /// Aborted on any failure, so no half-copied upload is left behind.
    pub async fn copy_in_parts(
        &self,
        from: &str,
        to: &str,
        source: &ObjectInfo,
        part_size: u64,
    ) -> anyhow::Result<Option<String>> {
        let upload_id = self
            .start_multipart(to, &source.content_type, source.content_encoding, true, WholeChecksum::None)
            .await?;
        let plan = PartPlan { size: source.size, part_size };
        let copied = self.copy_parts(from, to, &upload_id, plan).await;
        let parts = match copied {
            Ok(parts) => parts,
            Err(error) => {
                if let Err(abort) = self.abort_multipart(to, &upload_id).await {
                    tracing::warn!(error = format!("{abort:#}"), %to, "could not abort a failed copy");
                }
                return Err(error);
            }
        };
        match self.complete_multipart(to, &upload_id, &parts, None).await? {
            Completion::Completed(etag) => Ok(etag),
            Completion::ChecksumMismatch => {
                anyhow::bail!("the store refused a copy of {from} with no checksum")
            }
        }
    }

    async fn copy_parts(
        &self,
        from: &str,
        to: &str,
        upload_id: &str,
        plan: PartPlan,
    ) -> anyhow::Result<Vec<ListedPart>> {
        let source = format!("{}/{}", self.bucket, url_path(from));
        let mut parts = Vec::new();
        for number in 1..=plan.count() {
            let range = plan.range(number).expect("numbers within the plan");
            let copied = self
                .client
                .upload_part_copy()
                .bucket(&self.bucket)
                .key(to)
                .upload_id(upload_id)
                .part_number(number as i32)
                .copy_source(&source)
                .copy_source_range(format!("bytes={}-{}", range.start, range.end.saturating_sub(1)))
                .send()
                .await
                .with_context(|| format!("copy part {number} of {from} to {to}"))?;
            let etag = copied.copy_part_result().and_then(|result| result.e_tag()).unwrap_or_default();
            parts.push(ListedPart { number, size: range.end - range.start, etag: etag.to_owned() });
        }
        Ok(parts)
    }
}
