//! `POST /s3file/parts`, `/s3file/complete` and `/s3file/abort`: the rest of a multipart
//! upload that `sign` started. Each request shows the upload's ticket, which vouches for the
//! key, the upload id and the file's size and part size.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::JsonBody;
use crate::error::{Error, Result};
use crate::folder_token::TokenError;
use crate::keys::UploadKey;
use crate::multipart_ticket::{self, Ticket, WholeChecksum};
use crate::part_plan::PartsState;
use crate::state::AppState;
use crate::storage::{Completion, PresignedPut};
use crate::whole_checksum::Crc64Nvme;

/// Most part URLs one request may ask for.
pub const MAX_PARTS_PER_REQUEST: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UploadRef {
    pub key: String,
    pub upload_id: String,
    pub ticket: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PartsRequest {
    #[serde(flatten)]
    pub upload: UploadRef,
    /// Part numbers, 1-based.
    pub parts: Vec<u64>,
}

#[derive(Debug, Serialize)]
pub struct PartUrl {
    pub n: u64,
    #[serde(flatten)]
    pub request: PresignedPut,
}

#[derive(Debug, Serialize)]
pub struct PartsResponse {
    pub parts: Vec<PartUrl>,
    /// Unix seconds after which these URLs are refused; ask again for fresh ones.
    pub expires: i64,
}

/// `complete` (and `abort`, which ignores the checksums): the upload, and the CRC-64/NVME of
/// each of its parts in order (base64, as S3 writes them), which the browser computed from the
/// bytes it sent; absent when it does not know them all.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CompleteRequest {
    #[serde(flatten)]
    pub upload: UploadRef,
    #[serde(default)]
    pub crc64nvme: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
pub struct Completed {
    pub key: String,
    pub size: u64,
    /// The object's CRC-64/NVME that the store checked at completion; `None` when the upload
    /// was completed without one.
    pub crc64nvme: Option<String>,
}

/// The whole file's CRC-64/NVME from its parts' (`whole_checksum.rs`), for an upload created
/// with one and a browser that knows every part's; `None` otherwise.
fn whole_checksum(ticket: &Ticket, parts: Option<&[String]>) -> Result<Option<Crc64Nvme>> {
    let (WholeChecksum::Crc64Nvme, Some(parts)) = (ticket.whole_checksum, parts) else { return Ok(None) };
    let count = ticket.plan.count();
    if parts.len() as u64 != count {
        return Err(Error::BadRequest(format!(
            "crc64nvme lists {} checksums for a file of {count} parts",
            parts.len()
        )));
    }
    let mut pieces = Vec::with_capacity(parts.len());
    for (number, text) in (1..).zip(parts) {
        let crc = Crc64Nvme::from_base64(text).ok_or_else(|| {
            Error::BadRequest(format!("crc64nvme of part {number} is not 8 bytes of base64"))
        })?;
        let range = ticket.plan.range(number).expect("the count was checked");
        pieces.push((crc, range.end - range.start));
    }
    Ok(Some(Crc64Nvme::join(pieces)))
}

/// Checks the ticket; `any_age` for abort, which only ever removes the ticket's own upload.
fn verified(state: &AppState, upload: &UploadRef, any_age: bool) -> Result<Ticket> {
    UploadKey::parse(&state.config.uploads.path, &upload.key)
        .map_err(|error| Error::Forbidden(format!("{:?}: {error}", upload.key)))?;
    let (folders, ticket, key, id) = (&state.folders, &upload.ticket, &upload.key, &upload.upload_id);
    let verified = if any_age {
        multipart_ticket::verify_any_age(folders, ticket, key, id)
    } else {
        multipart_ticket::verify(folders, ticket, key, id, OffsetDateTime::now_utc())
    };
    verified.map_err(|error: TokenError| Error::Forbidden(format!("multipart upload ticket: {error}")))
}

pub async fn parts(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<PartsRequest>,
) -> Result<Json<PartsResponse>> {
    let ticket = verified(&state, &request.upload, false)?;
    if request.parts.is_empty() || request.parts.len() > MAX_PARTS_PER_REQUEST {
        return Err(Error::BadRequest(format!("ask for 1 to {MAX_PARTS_PER_REQUEST} parts at a time")));
    }
    let expires_in = state.config.uploads.upload_expire;
    let expires = (OffsetDateTime::now_utc() + expires_in).unix_timestamp();
    let mut parts = Vec::with_capacity(request.parts.len());
    for &n in &request.parts {
        let range = ticket.plan.range(n).ok_or_else(|| {
            Error::BadRequest(format!("part {n} does not exist: the file has {} parts", ticket.plan.count()))
        })?;
        let request = state
            .storage
            .presign_part(&ticket.key, &ticket.upload_id, n, range.end - range.start, expires_in)
            .await?;
        parts.push(PartUrl { n, request });
    }
    Ok(Json(PartsResponse { parts, expires }))
}

/// Completes the upload from the parts S3 holds, after checking they add up to the announced
/// file; a completed upload is reported again, so a retried request succeeds.
pub async fn complete(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<CompleteRequest>,
) -> Result<Json<Completed>> {
    let ticket = verified(&state, &request.upload, false)?;
    let whole = whole_checksum(&ticket, request.crc64nvme.as_deref())?;
    let Some(listed) = state.storage.list_parts(&ticket.key, &ticket.upload_id).await? else {
        return match state.storage.head(&ticket.key).await? {
            Some(info) if info.size == ticket.plan.size => {
                Ok(Json(Completed { key: ticket.key, size: info.size, crc64nvme: info.crc64nvme }))
            }
            _ => Err(Error::NotFound(
                "this multipart upload does not exist (any more): upload the file again".into(),
            )),
        };
    };
    match ticket.plan.check(&listed) {
        PartsState::Complete(parts) => {
            match state.storage.complete_multipart(&ticket.key, &ticket.upload_id, &parts, whole).await? {
                Completion::Completed(_) => {}
                Completion::ChecksumMismatch => {
                    // The parts the store holds are not the bytes the browser read: none of
                    // them may become the object, and sending them again starts afresh.
                    state.storage.abort_multipart(&ticket.key, &ticket.upload_id).await?;
                    return Err(Error::BadRequest(
                        "the uploaded parts are not the file: the store found another CRC-64/NVME \
                         than the browser computed; the upload was aborted"
                            .into(),
                    ));
                }
            }
            tracing::info!(key = %ticket.key, parts = parts.len(), size = ticket.plan.size, "completed a multipart upload");
            let crc64nvme = whole.map(Crc64Nvme::to_base64);
            Ok(Json(Completed { key: ticket.key, size: ticket.plan.size, crc64nvme }))
        }
        PartsState::Missing(missing) => Err(Error::Conflict(format!(
            "parts {} are still missing",
            missing.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        ))),
        PartsState::Mismatch(why) => {
            // Another file than the one signed: nothing of it may become an object.
            state.storage.abort_multipart(&ticket.key, &ticket.upload_id).await?;
            Err(Error::BadRequest(format!(
                "the uploaded parts are not the announced file ({why}); the upload was aborted"
            )))
        }
    }
}

pub async fn abort(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<CompleteRequest>,
) -> Result<StatusCode> {
    let ticket = verified(&state, &request.upload, true)?;
    state.storage.abort_multipart(&ticket.key, &ticket.upload_id).await?;
    tracing::info!(key = %ticket.key, "aborted a multipart upload");
    Ok(StatusCode::NO_CONTENT)
}
