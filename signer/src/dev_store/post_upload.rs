//! Browser POST uploads, checked the way S3 checks them: the policy's signature with the
//! credential it names, its expiry, every condition, the file's length, and the checksum a
//! `Content-MD5` or `x-amz-checksum-*` field gives.

use axum::extract::{Multipart, Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use tokio::io::AsyncWriteExt;

use super::checksums::{BodyDigest, Digests, Expected};
use super::{etag_header, internal, kept_headers, s3_error, xml_escape, DevStore, Meta, S3Error};
use crate::post_policy::{PolicyDocument, PolicyViolation};
use crate::sigv4;

/// S3's limit for one POST upload.
const MAX_SINGLE_UPLOAD: u64 = 5 * 1024 * 1024 * 1024;

fn denied(message: &str) -> S3Error {
    s3_error(StatusCode::FORBIDDEN, "AccessDenied", message)
}

fn invalid(message: &str) -> S3Error {
    s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", message)
}

pub(super) async fn post_object(
    State(store): State<DevStore>,
    UrlPath(bucket): UrlPath<String>,
    mut form: Multipart,
) -> Response {
    if let Err(response) = store.check_bucket(&bucket) {
        return response.into_response();
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    let now = time::OffsetDateTime::now_utc();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return invalid("POST requires exactly one file upload per request.").into_response(),
            Err(error) => {
                return invalid(&format!(
                    "The body of your POST request is not well-formed multipart/form-data: {error}"
                ))
                .into_response()
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name != "file" {
            match field.text().await {
                Ok(value) => fields.push((name, value)),
                Err(error) => return invalid(&format!("Bad form field {name}: {error}")).into_response(),
            }
            if fields.len() > 64 {
                return invalid("Too many form fields").into_response();
            }
            continue;
        }
        // Fields after the file are ignored, as S3 does; everything needed is known now.
        let policy = match authorize(&store, &fields) {
            Ok(policy) => policy,
            Err(error) => return error.into_response(),
        };
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let Some(key_template) = value_of(&fields, "key") else {
            return invalid("Bucket POST must contain a field named 'key'.").into_response();
        };
        let key = key_template.replace("${filename}", &file_name);
        let mut checked_fields = fields.clone();
        checked_fields.retain(|(name, _)| !name.eq_ignore_ascii_case("key"));
        checked_fields.push(("key".to_owned(), key.clone()));
        // Fields first, so a forbidden key or type is refused before any byte is stored; the
        // length is checked as the file arrives.
        if let Err(violation) = policy.check_fields(&bucket, &checked_fields, now) {
            return policy_error(violation).into_response();
        }
        let expected = match Expected::from_headers(&digest_fields(&fields)) {
            Ok(expected) => expected,
            Err(error) => return S3Error::from(error).into_response(),
        };
        let max = policy.max_content_length().unwrap_or(MAX_SINGLE_UPLOAD);
        let staged = store.0.objects.staging_path();
        let received = receive_limited(field, &staged, expected.digest(), max).await;
        let digests = match received {
            Ok(Some(digests)) => digests,
            Ok(None) => {
                let _ = tokio::fs::remove_file(&staged).await;
                return policy_error(PolicyViolation::TooLarge).into_response();
            }
            Err(error) => {
                let _ = tokio::fs::remove_file(&staged).await;
                return internal(error);
            }
        };
        if let Err(violation) = policy.check_length(digests.size) {
            let _ = tokio::fs::remove_file(&staged).await;
            return policy_error(violation).into_response();
        }
        if let Err(error) = expected.check(&digests) {
            let _ = tokio::fs::remove_file(&staged).await;
            return S3Error::from(error).into_response();
        }
        let (size, etag) = (digests.size, digests.etag());
        let content_type = value_of(&fields, "content-type").unwrap_or("binary/octet-stream").to_owned();
        let meta = Meta {
            key: key.clone(),
            content_type,
            size,
            etag: etag.clone(),
            headers: kept_headers(fields.iter().map(|(name, value)| (name.as_str(), value.as_str()))),
        };
        if let Err(error) = store.0.objects.commit(&staged, meta).await {
            return internal(error);
        }
        return created(&bucket, &key, &etag, value_of(&fields, "success_action_status"));
    }
}

/// The form fields that give the file's checksum, as the headers a PUT would carry.
fn digest_fields(fields: &[(String, String)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in fields {
        let name = name.to_ascii_lowercase();
        if name != "content-md5" && !name.starts_with("x-amz-checksum-") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(name, value);
        }
    }
    headers
}

fn value_of<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(field, _)| field.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
}

fn policy_error(violation: PolicyViolation) -> S3Error {
    match violation {
        PolicyViolation::TooLarge => {
            s3_error(StatusCode::BAD_REQUEST, "EntityTooLarge", &violation.to_string())
        }
        PolicyViolation::TooSmall => {
            s3_error(StatusCode::BAD_REQUEST, "EntityTooSmall", &violation.to_string())
        }
        PolicyViolation::Malformed(_) => invalid(&violation.to_string()),
        _ => denied(&violation.to_string()),
    }
}

/// Verifies the policy's signature and returns the decoded policy.
fn authorize(store: &DevStore, fields: &[(String, String)]) -> Result<PolicyDocument, S3Error> {
    let required = |name: &str| {
        value_of(fields, name)
            .ok_or_else(|| invalid(&format!("Bucket POST must contain a field named '{name}'.")))
    };
    let encoded = required("policy")?;
    if required("x-amz-algorithm")? != sigv4::ALGORITHM {
        return Err(invalid("Only AWS4-HMAC-SHA256 is supported"));
    }
    let credential = required("x-amz-credential")?;
    let amz_date = required("x-amz-date")?;
    let signature = required("x-amz-signature")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, "s3", "aws4_request"] = scope.as_slice() else {
        return Err(invalid("Invalid credential scope"));
    };
    if access_key_id.as_bytes().ct_eq(store.0.credentials.access_key_id.as_bytes()).unwrap_u8() != 1 {
        return Err(denied("The AWS Access Key Id you provided does not exist in our records."));
    }
    if !amz_date.starts_with(date) || date.len() != 8 {
        return Err(invalid("The date in the credential scope does not match x-amz-date"));
    }
    let day = time::Date::parse(date, time::macros::format_description!("[year][month][day]"))
        .map_err(|_| invalid("Invalid date in the credential scope"))?;
    let signing_key = store.0.signing_keys.signing_key(
        &store.0.credentials.secret_access_key,
        day.midnight().assume_utc(),
        region,
        sigv4::SERVICE,
    );
    let expected = sigv4::signature(&signing_key, encoded);
    if expected.as_bytes().ct_eq(signature.as_bytes()).unwrap_u8() != 1 {
        return Err(denied("The request signature we calculated does not match the signature you provided."));
    }
    PolicyDocument::decode(encoded).map_err(policy_error)
}

/// Streams the file part to `path`, digesting it; `None` once it grows past `max` bytes.
async fn receive_limited(
    mut field: axum::extract::multipart::Field<'_>,
    path: &std::path::Path,
    mut digest: BodyDigest,
    max: u64,
) -> std::io::Result<Option<Digests>> {
    let mut file = tokio::fs::File::create(path).await?;
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(std::io::Error::other)? {
        size += chunk.len() as u64;
        if size > max {
            return Ok(None);
        }
        digest.update(&chunk);
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    Ok(Some(digest.finish()))
}

fn created(bucket: &str, key: &str, etag: &str, status: Option<&str>) -> Response {
    let headers = [(header::ETAG, etag_header(etag))];
    match status {
        Some("201") => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Bucket>{}</Bucket><Key>{}</Key><ETag>\"{}\"</ETag></PostResponse>",
                xml_escape(bucket),
                xml_escape(key),
                etag
            );
            (StatusCode::CREATED, headers, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
        }
        Some("200") => (StatusCode::OK, headers).into_response(),
        _ => (StatusCode::NO_CONTENT, headers).into_response(),
    }
}
