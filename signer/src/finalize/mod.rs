//! Finalize: verifies a form's uploaded keys, moves each object to its final key with a
//! server-side copy, and answers with what was stored. The `/s3file/finalize` route, the
//! [`S3FileLayer`](crate::integration::S3FileLayer) and proxy mode all call [`finalize_request`].
//!
//! A form is all or nothing. [`submission::check`] verifies the whole form first; then every
//! upload and every destination is looked up; then every file is copied, and a copy that fails
//! undoes the copies before it; only when all are stored are the uploads deleted. So a bad key,
//! a missing upload or a failing store leaves every upload where it was.

mod fallback_gzip;
mod form;
mod moves;

use std::collections::BTreeMap;

use axum::extract::Request;
use axum::http::{header, HeaderMap};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::field_rules::{self, FieldRules};
use crate::state::AppState;
use crate::submission::Refusal;

pub use crate::submission::MAX_FILES;
/// Most bytes of plain (non-file) form fields, names included: counted while they stream.
pub const MAX_FIELD_BYTES: usize = 1024 * 1024;

#[derive(Debug, Serialize)]
pub struct Finalized {
    /// Form fields other than s3file's, by name.
    pub fields: BTreeMap<String, Vec<String>>,
    /// The same fields in the order they were submitted, for passing the form on.
    #[serde(skip)]
    pub passthrough: Vec<(String, String)>,
    pub files: BTreeMap<String, Vec<StoredFile>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredFile {
    pub name: String,
    pub key: String,
    pub size: u64,
    pub content_type: String,
    pub url: String,
    /// The stored object's S3 ETag, quotes removed: for an object stored in one piece, the hex
    /// MD5 of its bytes (unless the bucket encrypts with KMS); `<hex>-<parts>` for one stored in
    /// parts. `None` when the store did not say.
    pub etag: Option<String>,
    /// The object's CRC-64/NVME (base64), when the store keeps one: a multipart upload's
    /// whole-object checksum, which the store checked at completion against the one the
    /// browser computed (and, on AWS, which computes one for every object, any upload's).
    /// `None` for a file of the no-JavaScript fallback, and when the store keeps none.
    pub crc64nvme: Option<String>,
}

/// Reads a submitted form, verifies it against `rules` (the signer's own, or those an
/// application gives through the layer), moves its uploads, and returns what was stored along
/// with the form's other fields.
pub async fn finalize_request(state: &AppState, rules: &FieldRules, request: Request) -> Result<Finalized> {
    let form = form::read(state, rules, request).await?;
    moves::finalize_form(state, rules, form).await
}

/// Whether a request carries a form that [`finalize_request`] reads.
pub fn is_form(headers: &HeaderMap) -> bool {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    content_type.starts_with("multipart/form-data")
        || content_type.starts_with("application/x-www-form-urlencoded")
}

/// A file the field's rules refuse.
fn refused(refusal: field_rules::Refusal) -> Error {
    match refusal {
        field_rules::Refusal::TooLarge(message) => Error::PayloadTooLarge(message),
        field_rules::Refusal::NotAccepted(message) => Error::BadRequest(message),
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Error {
        match refusal {
            Refusal::BadRequest(message) => Error::BadRequest(message),
            Refusal::Forbidden(message) => Error::Forbidden(message),
            Refusal::TooMany => Error::PayloadTooLarge(refusal.to_string()),
        }
    }
}
