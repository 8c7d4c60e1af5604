//! Browser POST uploads, checked the way S3 checks them: the policy's signature with the
//! credential it names, its expiry, every condition, the file's length, and the checksum a
//! `Content-MD5` field gives (the one AWS documents for POST Object).
//!
//! Nothing is taken on trust before the policy verifies. The fields before the file are read
//! as they stream, each and all together capped, and the body beneath the parser is metered
//! ([`Allowance`]), so no preamble, part header or field is held past those bounds. Only once the
//! policy and every condition on those fields hold does the file get an allowance, the size the
//! policy allows, and it streams to a private staged file, refused as soon as it outgrows it.

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Path as UrlPath, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use tokio::io::AsyncWriteExt;

use super::body_allowance::Allowance;
use super::checksums::{BodyDigest, Digests, Expected};
use super::{etag_header, kept_headers, s3_error, xml, DevStore, Meta, S3Error};
use crate::post_policy::{PolicyDocument, PolicyViolation};
use crate::sigv4;

/// S3's limit for one POST upload.
const MAX_SINGLE_UPLOAD: u64 = 5 * 1024 * 1024 * 1024;

/// The most one form field before the file may hold, its name and value.
const MAX_FIELD_BYTES: usize = 64 * 1024;

/// The most the fields before the file may hold together. S3 allows 20 KB; the dev store is
/// more lenient, never unbounded.
const MAX_FIELDS_BYTES: usize = 1024 * 1024;

/// The most fields before the file.
const MAX_FIELDS: usize = 64;

/// What a form may send beyond the bytes counted as fields or file: boundaries, part headers,
/// and what the multipart parser reads ahead of the part it is in.
const FORM_OVERHEAD: u64 = 1024 * 1024;

fn denied(message: &str) -> S3Error {
    s3_error(StatusCode::FORBIDDEN, "AccessDenied", message)
}

fn invalid(message: &str) -> S3Error {
    s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", message)
}

fn pre_data_too_long() -> S3Error {
    s3_error(
        StatusCode::BAD_REQUEST,
        "MaxPostPreDataLengthExceeded",
        "Your POST request fields preceding the upload file were too large.",
    )
}

fn malformed(error: &MultipartError) -> S3Error {
    invalid(&format!("The body of your POST request is not well-formed multipart/form-data: {error}"))
}

pub(super) async fn post_object(
    State(store): State<DevStore>,
    UrlPath(bucket): UrlPath<String>,
    request: Request,
) -> Response {
    match receive_form(&store, &bucket, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn receive_form(store: &DevStore, bucket: &str, request: Request) -> Result<Response, S3Error> {
    store.check_bucket(bucket)?;
    let allowance = Allowance::new(MAX_FIELDS_BYTES as u64 + FORM_OVERHEAD);
    let mut form = metered_form(request, &allowance).await?;
    let mut fields = FormFields::default();
    loop {
        let field = form.next_field().await.map_err(|error| pre_file_error(&error, &allowance))?;
        let Some(mut field) = field else {
            return Err(invalid("POST requires exactly one file upload per request."));
        };
        if field.name() == Some("file") {
            // Fields after the file are ignored, as S3 does; everything needed is known now.
            return store_file(store, bucket, &fields.read, field, &allowance).await;
        }
        fields.read_one(&mut field, &allowance).await?;
    }
}

/// The request's multipart form, over a body metered by `allowance`.
async fn metered_form(request: Request, allowance: &Allowance) -> Result<Multipart, S3Error> {
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(parts, allowance.meter(body));
    Multipart::from_request(request, &()).await.map_err(|rejection| invalid(&rejection.body_text()))
}

/// A parser failure before the file: the body went past the fields' allowance, or is not a form.
fn pre_file_error(error: &MultipartError, allowance: &Allowance) -> S3Error {
    if allowance.exceeded() {
        pre_data_too_long()
    } else {
        malformed(error)
    }
}

/// The text fields before the file, read as they stream.
#[derive(Default)]
struct FormFields {
    read: Vec<(String, String)>,
    bytes: usize,
}

impl FormFields {
    async fn read_one(&mut self, field: &mut Field<'_>, allowance: &Allowance) -> Result<(), S3Error> {
        if self.read.len() >= MAX_FIELDS {
            return Err(invalid("Too many form fields"));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let mut size = 0;
        self.count(&mut size, name.len())?;
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|error| pre_file_error(&error, allowance))? {
            self.count(&mut size, chunk.len())?;
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value)
            .map_err(|_| invalid(&format!("Bad form field {name}: it is not UTF-8 text")))?;
        self.read.push((name, value));
        Ok(())
    }

    /// Counts `more` bytes of the field whose `size` so far is given, refused past the caps.
    fn count(&mut self, size: &mut usize, more: usize) -> Result<(), S3Error> {
        *size += more;
        self.bytes += more;
        if *size > MAX_FIELD_BYTES || self.bytes > MAX_FIELDS_BYTES {
            return Err(pre_data_too_long());
        }
        Ok(())
    }
}

/// Checks the policy against the fields before the file, then streams the file in.
async fn store_file(
    store: &DevStore,
    bucket: &str,
    fields: &[(String, String)],
    field: Field<'_>,
    allowance: &Allowance,
) -> Result<Response, S3Error> {
    let policy = authorize(store, fields)?;
    let key = key_of(fields, field.file_name().unwrap_or_default())?;
    // Every condition on the fields first, so a forbidden key or type is refused before any
    // byte is stored; the length is checked as the file arrives.
    policy
        .check_fields(bucket, &with_key(fields, &key), time::OffsetDateTime::now_utc())
        .map_err(policy_error)?;
    let expected = Expected::from_headers(&digest_fields(fields))?;
    let max = policy.max_content_length().unwrap_or(MAX_SINGLE_UPLOAD).min(MAX_SINGLE_UPLOAD);
    allowance.allow_more(max.saturating_add(FORM_OVERHEAD));
    let (staged, file) = store.0.objects.stage().map_err(S3Error::internal)?;
    let digests = receive_file(field, file, expected.digest(), max, allowance).await?;
    policy.check_length(digests.size).map_err(policy_error)?;
    expected.check(&digests)?;
    let etag = digests.etag();
    let meta = Meta {
        key: key.clone(),
        content_type: value_of(fields, "content-type").unwrap_or("binary/octet-stream").to_owned(),
        size: digests.size,
        etag: etag.clone(),
        headers: kept_headers(fields.iter().map(|(name, value)| (name.as_str(), value.as_str()))),
        crc64nvme: None,
    };
    store.0.objects.commit(staged, meta).await.map_err(S3Error::internal)?;
    Ok(created(bucket, &key, &etag, value_of(fields, "success_action_status")))
}

/// The object's key: the `key` field, with `${filename}` replaced by the file's name.
fn key_of(fields: &[(String, String)], file_name: &str) -> Result<String, S3Error> {
    let template =
        value_of(fields, "key").ok_or_else(|| invalid("Bucket POST must contain a field named 'key'."))?;
    Ok(template.replace("${filename}", file_name))
}

/// The fields as the policy sees them: with the key the object will have.
fn with_key(fields: &[(String, String)], key: &str) -> Vec<(String, String)> {
    let mut checked: Vec<_> =
        fields.iter().filter(|(name, _)| !name.eq_ignore_ascii_case("key")).cloned().collect();
    checked.push(("key".to_owned(), key.to_owned()));
    checked
}

/// The form field that gives the file's checksum, as the header a PUT would carry. AWS
/// documents `Content-MD5` for POST Object, and no `x-amz-checksum-*` field: such a field is
/// one more field its policy must allow, and verifies nothing.
fn digest_fields(fields: &[(String, String)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in fields {
        let name = name.to_ascii_lowercase();
        if name != "content-md5" {
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

/// Streams the file part into `file`, digesting it; refused as soon as it outgrows `max`.
async fn receive_file(
    mut field: Field<'_>,
    mut file: tokio::fs::File,
    mut digest: BodyDigest,
    max: u64,
    allowance: &Allowance,
) -> Result<Digests, S3Error> {
    let too_large = || policy_error(PolicyViolation::TooLarge);
    let mut size = 0u64;
    loop {
        let chunk = field.chunk().await.map_err(|error| {
            if allowance.exceeded() {
                too_large()
            } else {
                malformed(&error)
            }
        })?;
        let Some(chunk) = chunk else { break };
        size += chunk.len() as u64;
        if size > max {
            return Err(too_large());
        }
        digest.update(&chunk);
        file.write_all(&chunk).await.map_err(S3Error::internal)?;
    }
    file.flush().await.map_err(S3Error::internal)?;
    Ok(digest.finish())
}

fn created(bucket: &str, key: &str, etag: &str, status: Option<&str>) -> Response {
    let headers = [(header::ETAG, etag_header(etag))];
    match status {
        Some("201") => {
            let body = xml::document("PostResponse", None, |root| {
                xml::text(root, "Bucket", bucket);
                xml::text(root, "Key", key);
                xml::text(root, "ETag", &format!("\"{etag}\""));
            });
            (StatusCode::CREATED, headers, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
        }
        Some("200") => (StatusCode::OK, headers).into_response(),
        _ => (StatusCode::NO_CONTENT, headers).into_response(),
    }
}
