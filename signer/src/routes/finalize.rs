//! `POST /s3file/finalize`: verifies a form's uploaded keys, moves each object to its final
//! key with a server-side copy, and answers with what was stored.
//!
//! A form is all or nothing. [`submission::check`] verifies the whole form first; then every
//! upload and every destination is looked up; then every file is copied, and a copy that fails
//! undoes the copies before it; only when all are stored are the uploads deleted. So a bad key,
//! a missing upload or a failing store leaves every upload where it was.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;

use super::result_page;
use crate::error::{Error, Result};
use crate::field_rules::{self, FieldRules};
use crate::keys::{self, FinalNaming, UploadKey};
use crate::state::AppState;
use crate::storage::ObjectInfo;
use crate::submission::{self, Refusal};

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
}

/// A form as received: text fields, and files the browser sent itself (no JavaScript).
struct Form {
    fields: Vec<(String, String)>,
    spooled: Vec<SpooledFile>,
}

/// A file of the no-JavaScript fallback, on local disk until it is stored: a private (0600)
/// temporary file, removed when this is dropped, whichever way the request ends.
struct SpooledFile {
    field: String,
    name: String,
    content_type: String,
    size: u64,
    file: tempfile::TempPath,
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

pub async fn finalize(State(state): State<AppState>, request: Request) -> Result<Response> {
    let wants_json = accepts_json(request.headers());
    let finalized = finalize_request(&state, request).await?;
    if wants_json {
        return Ok(Json(finalized).into_response());
    }
    Ok(Html(result_page::render(&finalized)).into_response())
}

/// Reads a submitted form, verifies and moves its uploads, and returns what was stored along with
/// the form's other fields.
pub async fn finalize_request(state: &AppState, request: Request) -> Result<Finalized> {
    finalize_request_with(state, &state.rules, request).await
}

/// As [`finalize_request`], with the upload rules an application gives (through
/// [`S3FileLayer`](crate::integration::S3FileLayer)) instead of the signer's settings.
pub async fn finalize_request_with(
    state: &AppState,
    rules: &FieldRules,
    request: Request,
) -> Result<Finalized> {
    let form = read_form(state, rules, request).await?;
    finalize_form(state, rules, form).await
}

/// Whether a request carries a form that [`finalize_request`] reads.
pub fn is_form(headers: &HeaderMap) -> bool {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    content_type.starts_with("multipart/form-data")
        || content_type.starts_with("application/x-www-form-urlencoded")
}

fn accepts_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}

async fn read_form(state: &AppState, rules: &FieldRules, request: Request) -> Result<Form> {
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(|rejection| Error::BadRequest(rejection.body_text()))?;
        return read_multipart(rules, multipart).await;
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let body = axum::body::to_bytes(request.into_body(), MAX_FIELD_BYTES).await.map_err(|_| {
            Error::PayloadTooLarge(format!("form fields may total at most {MAX_FIELD_BYTES} bytes"))
        })?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|error| Error::BadRequest(format!("the form is not valid URL-encoded data: {error}")))?;
        return Ok(Form { fields, spooled: Vec::new() });
    }
    Err(Error::BadRequest(format!(
        "expected a form (multipart/form-data or application/x-www-form-urlencoded), got {content_type:?}"
    )))
}

async fn read_multipart(rules: &FieldRules, mut multipart: Multipart) -> Result<Form> {
    let bad = |error: axum::extract::multipart::MultipartError| {
        Error::BadRequest(format!("malformed multipart form: {error}"))
    };
    let mut form = Form { fields: Vec::new(), spooled: Vec::new() };
    let mut field_bytes = 0usize;
    while let Some(mut part) = multipart.next_field().await.map_err(bad)? {
        let field = part.name().unwrap_or_default().to_owned();
        let Some(file_name) = part.file_name().map(str::to_owned) else {
            // Counted chunk by chunk: a huge field is refused at the limit, never held whole.
            field_bytes += field.len();
            let mut value = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(bad)? {
                field_bytes += chunk.len();
                if field_bytes > MAX_FIELD_BYTES {
                    return Err(Error::PayloadTooLarge(format!(
                        "form fields may total at most {MAX_FIELD_BYTES} bytes"
                    )));
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value)
                .map_err(|_| Error::BadRequest(format!("the field `{field}` is not UTF-8 text")))?;
            form.fields.push((field, value));
            continue;
        };
        // A file input with nothing chosen still sends an empty, nameless part.
        if file_name.is_empty() {
            while part.chunk().await.map_err(bad)?.is_some() {}
            continue;
        }
        if form.spooled.len() == MAX_FILES {
            return Err(Error::PayloadTooLarge(format!("at most {MAX_FILES} files per form")));
        }
        let name = keys::sanitize_file_name(&file_name)
            .map_err(|error| Error::BadRequest(format!("file {file_name:?}: {error}")))?;
        let content_type = part.content_type().unwrap_or("application/octet-stream").to_owned();
        // The rules the widget's uploads follow: the type before a byte is spooled, the size
        // while the bytes arrive.
        let rule = rules.for_field(&field);
        rule.check(&name, &content_type, 0).map_err(refused)?;
        let temp =
            tempfile::Builder::new().prefix("s3file-upload-").tempfile().map_err(anyhow::Error::from)?;
        let (std_file, path) = temp.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);
        let mut size = 0u64;
        while let Some(chunk) = part.chunk().await.map_err(bad)? {
            size += chunk.len() as u64;
            if size > rule.max_size() {
                rule.check(&name, &content_type, size).map_err(refused)?;
            }
            file.write_all(&chunk).await.map_err(anyhow::Error::from)?;
        }
        file.flush().await.map_err(anyhow::Error::from)?;
        form.spooled.push(SpooledFile { field, name, content_type, size, file: path });
    }
    Ok(form)
}

/// One file of the form on its way to its final key.
struct Move<'a> {
    field: &'a str,
    name: &'a str,
    source: Source<'a>,
    destination: String,
    info: ObjectInfo,
}

enum Source<'a> {
    /// An object the browser uploaded: copied inside S3, then deleted.
    Upload(&'a UploadKey),
    /// A file the browser posted to the signer itself: stored from disk.
    Spooled(&'a Path),
}

async fn finalize_form(state: &AppState, rules: &FieldRules, form: Form) -> Result<Finalized> {
    let file_fields: Vec<&str> = form.spooled.iter().map(|file| file.field.as_str()).collect();
    let submission = submission::check(
        form.fields,
        &file_fields,
        &state.settings.upload_path,
        &state.folders,
        OffsetDateTime::now_utc(),
    )?;
    let naming = FinalNaming::from_overwrite(state.settings.file_overwrite);
    let location = &state.settings.location;

    // Look every upload up before moving any, so a missing one changes nothing.
    let mut moves = Vec::new();
    for field in &submission.fields {
        for key in &field.keys {
            let info = state.storage.head(key.as_str()).await?.ok_or_else(|| {
                Error::NotFound(format!(
                    "upload {:?} was not found; it may have expired: upload the file again",
                    key.name()
                ))
            })?;
            // What S3 holds must fit the field's rules, whatever the signer signed when.
            rules.for_field(&field.name).check(key.name(), &info.content_type, info.size).map_err(refused)?;
            moves.push(Move {
                field: &field.name,
                name: key.name(),
                source: Source::Upload(key),
                destination: naming.final_key(location, key.folder_id(), key.name()),
                info,
            });
        }
    }
    for file in &form.spooled {
        // A folder id of its own, exactly as a signed upload gets one.
        let folder_id = keys::folder_id(rand::random());
        moves.push(Move {
            field: &file.field,
            name: &file.name,
            source: Source::Spooled(&file.file),
            destination: naming.final_key(location, &folder_id, &file.name),
            info: ObjectInfo { size: file.size, content_type: file.content_type.clone() },
        });
    }
    check_destinations(state, naming, &moves).await?;

    let mut etags = Vec::with_capacity(moves.len());
    for (done, step) in moves.iter().enumerate() {
        match store(state, step).await {
            Ok(etag) => etags.push(etag),
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "storing a form's file failed");
                undo(state, naming, &moves[..done]).await;
                return Err(Error::StoreFailed(format!(
                    "storing {:?} failed; nothing was stored and the uploads are still in place: submit the form again",
                    step.name
                )));
            }
        }
    }
    // Every file is stored: only now do the uploads go. A delete that fails leaves a stray
    // object in the upload folder, which its lifecycle rule removes.
    for step in &moves {
        if let Source::Upload(key) = step.source {
            if let Err(error) = state.storage.delete(key.as_str()).await {
                tracing::warn!(
                    error = format!("{error:#}"),
                    key = key.as_str(),
                    "could not delete an upload"
                );
            }
        }
    }

    let mut files: BTreeMap<String, Vec<StoredFile>> = BTreeMap::new();
    for (step, etag) in moves.iter().zip(etags) {
        files.entry(step.field.to_owned()).or_default().push(StoredFile {
            name: step.name.to_owned(),
            url: download_url(state, &step.destination).await?,
            key: step.destination.clone(),
            size: step.info.size,
            content_type: step.info.content_type.clone(),
            etag,
        });
    }
    let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &submission.passthrough {
        fields.entry(name.clone()).or_default().push(value.clone());
    }
    let count = files.values().map(Vec::len).sum::<usize>();
    state.metrics.finalized_files.fetch_add(count as u64, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(files = count, "finalized uploads");
    Ok(Finalized { fields, passthrough: submission.passthrough, files })
}

/// No two files of a form go to one key, and, unless overwriting is on, none goes where an
/// object already is (a key unique per upload exists only if this very form was finalized).
async fn check_destinations(state: &AppState, naming: FinalNaming, moves: &[Move<'_>]) -> Result<()> {
    let mut destinations = BTreeSet::new();
    for step in moves {
        if !destinations.insert(step.destination.as_str()) {
            return Err(Error::BadRequest(format!(
                "two files of this form would be stored as {:?}; give them different names",
                step.destination
            )));
        }
    }
    if naming == FinalNaming::Overwrite {
        return Ok(());
    }
    for step in moves {
        if state.storage.head(&step.destination).await?.is_some() {
            return Err(Error::Conflict(format!(
                "{:?} was stored already: this form was submitted before",
                step.name
            )));
        }
    }
    Ok(())
}

async fn store(state: &AppState, step: &Move<'_>) -> anyhow::Result<Option<String>> {
    match step.source {
        Source::Upload(key) => state.storage.copy_object(key.as_str(), &step.destination, &step.info).await,
        Source::Spooled(path) => {
            state.storage.put_file(&step.destination, path, &step.info.content_type).await
        }
    }
}

/// Removes what a failed form stored. With keys unique per upload these objects are this
/// form's alone; an overwritten object cannot be brought back, so with `file_overwrite` the
/// copies stay.
async fn undo(state: &AppState, naming: FinalNaming, stored: &[Move<'_>]) {
    if naming == FinalNaming::Overwrite {
        return;
    }
    for step in stored {
        if let Err(error) = state.storage.delete(&step.destination).await {
            tracing::warn!(error = format!("{error:#}"), key = step.destination, "could not undo a copy");
        }
    }
}

/// django-storages' rules: a custom domain serves unsigned URLs; otherwise URLs are presigned
/// unless `querystring_auth` is off.
async fn download_url(state: &AppState, key: &str) -> Result<String> {
    let settings = &state.settings;
    if let Some(domain) = &settings.custom_domain {
        return Ok(format!("{}//{domain}/{}", settings.url_protocol, keys::url_path(key)));
    }
    if !settings.querystring_auth {
        return Ok(format!("{}/{}", state.bucket_url, keys::url_path(key)));
    }
    Ok(state.storage.presigned_get(key, Duration::from_secs(settings.querystring_expire)).await?)
}
