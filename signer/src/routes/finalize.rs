//! `POST /s3file/finalize`: verifies a form's uploaded keys, moves each object to its final
//! key with a server-side copy, and answers with what was stored.
//!
//! Nothing is copied until every key of every field has been verified, so a form with one bad
//! key changes nothing.

use std::collections::BTreeMap;
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
use crate::keys::{self, UploadKey};
use crate::state::AppState;

/// Most files one form may finalize.
pub const MAX_FILES: usize = 1000;
/// Most bytes of plain (non-file) form fields.
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

struct SpooledFile {
    field: String,
    name: String,
    content_type: String,
    path: std::path::PathBuf,
}

impl Drop for SpooledFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
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
    let form = read_form(state, request).await?;
    finalize_form(state, form).await
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

async fn read_form(state: &AppState, request: Request) -> Result<Form> {
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(|rejection| Error::BadRequest(rejection.body_text()))?;
        return read_multipart(state, multipart).await;
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

async fn read_multipart(state: &AppState, mut multipart: Multipart) -> Result<Form> {
    let bad = |error: axum::extract::multipart::MultipartError| {
        Error::BadRequest(format!("malformed multipart form: {error}"))
    };
    let mut form = Form { fields: Vec::new(), spooled: Vec::new() };
    let mut field_bytes = 0usize;
    while let Some(mut part) = multipart.next_field().await.map_err(bad)? {
        let name = part.name().unwrap_or_default().to_owned();
        let Some(file_name) = part.file_name().map(str::to_owned) else {
            let value = part.text().await.map_err(bad)?;
            field_bytes += name.len() + value.len();
            if field_bytes > MAX_FIELD_BYTES {
                return Err(Error::PayloadTooLarge(format!(
                    "form fields may total at most {MAX_FIELD_BYTES} bytes"
                )));
            }
            form.fields.push((name, value));
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
        let spooled = SpooledFile {
            field: part.name().unwrap_or_default().to_owned(),
            name,
            content_type: part.content_type().unwrap_or("application/octet-stream").to_owned(),
            path: std::env::temp_dir()
                .join(format!("s3file-upload-{}", hex::encode(rand::random::<[u8; 12]>()))),
        };
        let mut file = tokio::fs::File::create(&spooled.path).await.map_err(anyhow::Error::from)?;
        let mut size = 0u64;
        while let Some(chunk) = part.chunk().await.map_err(bad)? {
            size += chunk.len() as u64;
            if size > state.settings.max_file_size {
                return Err(Error::PayloadTooLarge(format!(
                    "{} is larger than {} bytes",
                    spooled.name, state.settings.max_file_size
                )));
            }
            file.write_all(&chunk).await.map_err(anyhow::Error::from)?;
        }
        file.flush().await.map_err(anyhow::Error::from)?;
        form.spooled.push(spooled);
    }
    Ok(form)
}

/// The keys of one s3file field, verified.
struct VerifiedField {
    field: String,
    keys: Vec<UploadKey>,
}

fn values<'a>(fields: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    fields.iter().filter(move |(field, _)| field == name).map(|(_, value)| value.as_str())
}

fn verify_fields(
    state: &AppState,
    fields: &[(String, String)],
    now: OffsetDateTime,
) -> Result<Vec<VerifiedField>> {
    let mut field_names: Vec<&str> = values(fields, "s3file").collect();
    field_names.dedup();
    let mut verified = Vec::new();
    let mut total = 0;
    for field in field_names {
        let signature_name = format!("{field}-s3f-signature");
        let signatures: Vec<&str> = values(fields, &signature_name).collect();
        let [signature] = signatures.as_slice() else {
            return Err(Error::BadRequest(format!("expected exactly one `{signature_name}` field")));
        };
        let mut keys = Vec::new();
        for raw in values(fields, field) {
            total += 1;
            if total > MAX_FILES {
                return Err(Error::PayloadTooLarge(format!("at most {MAX_FILES} files per form")));
            }
            let key = UploadKey::parse(&state.settings.upload_path, raw)
                .map_err(|error| Error::Forbidden(format!("`{field}`: {raw:?}: {error}")))?;
            state
                .folders
                .verify(signature, field, key.folder(), now)
                .map_err(|error| Error::Forbidden(format!("`{field}`: {error}")))?;
            keys.push(key);
        }
        verified.push(VerifiedField { field: field.to_owned(), keys });
    }
    Ok(verified)
}

async fn finalize_form(state: &AppState, form: Form) -> Result<Finalized> {
    let verified = verify_fields(state, &form.fields, OffsetDateTime::now_utc())?;
    let s3file_names: Vec<String> = verified
        .iter()
        .flat_map(|field| [field.field.clone(), format!("{}-s3f-signature", field.field)])
        .chain(["s3file".to_owned()])
        .collect();

    // Look every upload up before moving any, so a missing one changes nothing.
    let mut sources = Vec::new();
    for field in &verified {
        for key in &field.keys {
            let info = state.storage.head(key.as_str()).await?.ok_or_else(|| {
                Error::NotFound(format!(
                    "upload {:?} was not found; it may have expired: upload the file again",
                    key.name()
                ))
            })?;
            sources.push((field.field.clone(), key, info));
        }
    }

    let mut files: BTreeMap<String, Vec<StoredFile>> = BTreeMap::new();
    for (field, key, info) in sources {
        let final_key = final_key(state, key.name()).await?;
        let etag = state.storage.copy_object(key.as_str(), &final_key, &info).await?;
        state.storage.delete(key.as_str()).await?;
        let url = download_url(state, &final_key).await?;
        files.entry(field).or_default().push(StoredFile {
            name: key.name().to_owned(),
            key: final_key,
            size: info.size,
            content_type: info.content_type,
            url,
            etag,
        });
    }
    for spooled in &form.spooled {
        let final_key = final_key(state, &spooled.name).await?;
        let etag = state.storage.put_file(&final_key, &spooled.path, &spooled.content_type).await?;
        let size = tokio::fs::metadata(&spooled.path).await.map_err(anyhow::Error::from)?.len();
        let url = download_url(state, &final_key).await?;
        files.entry(spooled.field.clone()).or_default().push(StoredFile {
            name: spooled.name.clone(),
            key: final_key,
            size,
            content_type: spooled.content_type.clone(),
            url,
            etag,
        });
    }

    let passthrough: Vec<(String, String)> =
        form.fields.into_iter().filter(|(name, _)| !s3file_names.contains(name)).collect();
    let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &passthrough {
        fields.entry(name.clone()).or_default().push(value.clone());
    }
    let count = files.values().map(Vec::len).sum::<usize>();
    state.metrics.finalized_files.fetch_add(count as u64, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(files = count, "finalized uploads");
    Ok(Finalized { fields, passthrough, files })
}

/// `<location>/<name>`, or with a random suffix when overwriting is off and the name is taken.
async fn final_key(state: &AppState, name: &str) -> Result<String> {
    let key = keys::join(&[&state.settings.location, name]);
    if state.settings.file_overwrite || state.storage.head(&key).await?.is_none() {
        return Ok(key);
    }
    loop {
        let suffix: String = rand::random::<[u8; 7]>()
            .iter()
            .map(|b| ALPHANUMERIC[*b as usize % ALPHANUMERIC.len()] as char)
            .collect();
        let candidate = keys::join(&[&state.settings.location, &keys::with_suffix(name, &suffix)]);
        if state.storage.head(&candidate).await?.is_none() {
            return Ok(candidate);
        }
    }
}

const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

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
