//! Reading a submitted form: text fields capped while they stream, and the files of the
//! no-JavaScript fallback spooled to private temporary files under the field's rules.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use tokio::io::AsyncWriteExt;

use super::{refused, MAX_FIELD_BYTES, MAX_FILES};
use crate::error::{Error, Result};
use crate::field_rules::FieldRules;
use crate::keys;
use crate::state::AppState;

/// A form as received: text fields, and files the browser sent itself (no JavaScript).
pub(super) struct Form {
    pub fields: Vec<(String, String)>,
    pub spooled: Vec<SpooledFile>,
}

/// A file of the no-JavaScript fallback, on local disk until it is stored: a private (0600)
/// temporary file, removed when this is dropped, whichever way the request ends.
pub(super) struct SpooledFile {
    pub field: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub file: tempfile::TempPath,
}

/// The form `request` carries, URL-encoded or multipart.
pub(super) async fn read(state: &AppState, rules: &FieldRules, request: Request) -> Result<Form> {
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
