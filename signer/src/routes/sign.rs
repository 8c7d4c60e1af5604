//! `POST /s3file/sign`: upload instructions for the files of one form field.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::JsonBody;
use crate::accept::Accept;
use crate::error::{Error, Result};
use crate::keys;
use crate::post_policy::{sign_post, PostPolicy};
use crate::state::AppState;

/// Most files one request may sign; bounds the work a single request can ask for.
pub const MAX_FILES: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    pub field: String,
    pub files: Vec<FileDescription>,
    /// The input's `accept` attribute: files that do not match are refused.
    #[serde(default)]
    pub accept: String,
    /// A page's own size limit, in bytes; the signer's `S3FILE_MAX_FILE_SIZE` still applies.
    #[serde(default)]
    pub max_size: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDescription {
    pub name: String,
    pub size: u64,
    #[serde(rename = "type", default)]
    pub content_type: String,
}

#[derive(Debug, Serialize)]
pub struct SignResponse {
    pub field: String,
    pub signature: String,
    pub files: Vec<SignedUpload>,
}

#[derive(Debug, Serialize)]
pub struct SignedUpload {
    pub name: String,
    pub key: String,
    pub url: String,
    pub fields: Map<String, Value>,
}

/// Checks a form field name: the widget sends the input's `name`.
fn validate_field(field: &str) -> Result<()> {
    if field.is_empty() || field.len() > 200 || field.chars().any(char::is_control) {
        return Err(Error::BadRequest(
            "`field` must be the file input's name: 1 to 200 printable characters".into(),
        ));
    }
    if field == "s3file" || field.ends_with("-s3f-signature") {
        return Err(Error::BadRequest(format!("`{field}` is reserved for s3file's own form fields")));
    }
    Ok(())
}

/// A MIME type as browsers report it; empty (unknown) becomes `application/octet-stream`.
fn content_type(raw: &str) -> Result<String> {
    if raw.is_empty() {
        return Ok("application/octet-stream".to_owned());
    }
    let valid =
        raw.len() <= 255 && raw.contains('/') && raw.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if !valid {
        return Err(Error::BadRequest(format!("{raw:?} is not a media type")));
    }
    Ok(raw.to_owned())
}

pub async fn sign(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<SignRequest>,
) -> Result<Json<SignResponse>> {
    validate_field(&request.field)?;
    if request.files.is_empty() {
        return Err(Error::BadRequest("`files` is empty: nothing to sign".into()));
    }
    if request.files.len() > MAX_FILES {
        return Err(Error::PayloadTooLarge(format!(
            "{} files in one request; at most {MAX_FILES} are signed at once",
            request.files.len()
        )));
    }
    let max_size =
        request.max_size.map_or(state.settings.max_file_size, |page| page.min(state.settings.max_file_size));
    let accept = Accept::parse(&request.accept).map_err(Error::BadRequest)?;
    let mut planned = Vec::with_capacity(request.files.len());
    for file in &request.files {
        let name = keys::sanitize_file_name(&file.name)
            .map_err(|error| Error::BadRequest(format!("file {:?}: {error}", file.name)))?;
        if file.size > max_size {
            return Err(Error::PayloadTooLarge(format!(
                "{name} is {} bytes; files may be at most {max_size} bytes",
                file.size
            )));
        }
        if accept.as_ref().is_some_and(|accept| !accept.allows(&name, &file.content_type)) {
            return Err(Error::BadRequest(format!(
                "{name} ({}) is not an accepted type: {}",
                if file.content_type.is_empty() { "unknown type" } else { &file.content_type },
                request.accept
            )));
        }
        planned.push((name, file.size, content_type(&file.content_type)?));
    }

    let now = OffsetDateTime::now_utc();
    let folder = keys::join(&[&state.settings.upload_path, &keys::folder_id(rand::random())]);
    let signature = state.folders.sign(
        &request.field,
        &folder,
        now + Duration::seconds(state.settings.signature_expire as i64),
    );
    let credentials = state.credentials.signing_credentials().await?;
    let url =
        if state.dev_store.is_some() { dev_store_url(&headers, &state) } else { state.bucket_url.clone() };
    let key_prefix = format!("{folder}/");
    let key_template = format!("{folder}/${{filename}}");
    let expires_at = now + Duration::seconds(state.settings.upload_expire as i64);
    let extra_fields = state.storage.parameters.upload_fields();
    let files: Vec<SignedUpload> = planned
        .into_iter()
        .map(|(name, size, content_type)| {
            let policy = PostPolicy {
                bucket: &state.storage.bucket,
                key: &key_template,
                key_prefix: &key_prefix,
                content_type: &content_type,
                // Exactly the announced size: a different file cannot ride on this policy.
                content_length: size..=size,
                expires_at,
                extra_fields: &extra_fields,
            };
            let fields = sign_post(&policy, &credentials, &state.region, now, &state.signing_keys)
                .into_iter()
                .map(|(name, value)| (name, Value::String(value)))
                .collect();
            SignedUpload { key: format!("{key_prefix}{name}"), name, url: url.clone(), fields }
        })
        .collect();
    state.metrics.signed_files.fetch_add(files.len() as u64, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(field = %request.field, %folder, files = files.len(), "signed uploads");
    Ok(Json(SignResponse { field: request.field, signature, files }))
}

/// In dev mode the store is this very server, reached at whatever host the browser used.
fn dev_store_url(headers: &HeaderMap, state: &AppState) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        .map(str::to_owned)
        .unwrap_or_else(|| state.settings.listen.to_string());
    format!("http://{host}/s3/{}", state.storage.bucket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_checked() {
        assert!(validate_field("file").is_ok());
        assert!(validate_field("attachments[]").is_ok());
        assert!(validate_field("").is_err());
        assert!(validate_field("a\nb").is_err());
        assert!(validate_field("s3file").is_err());
        assert!(validate_field("file-s3f-signature").is_err());
    }

    #[test]
    fn content_types_are_checked() {
        assert_eq!(content_type("").unwrap(), "application/octet-stream");
        assert_eq!(content_type("text/plain; charset=utf-8").unwrap(), "text/plain; charset=utf-8");
        assert!(content_type("text").is_err());
        assert!(content_type("text/plain\r\nX-Evil: 1").is_err());
    }
}
