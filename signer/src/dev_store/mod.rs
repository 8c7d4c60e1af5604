//! The embedded S3-compatible store used in dev mode, mounted at `/s3`.
//!
//! It speaks the S3 that s3file's upload modes use, and checks requests as S3 does:
//!
//! - browser POST uploads under a policy (`post_upload.rs`);
//! - PutObject, UploadPart and UploadPartCopy, CopyObject, DeleteObject, and
//!   Create/Complete/AbortMultipartUpload, ListParts, ListMultipartUploads
//!   (`multipart_upload.rs`), signed with SigV4 either in the `Authorization` header (the
//!   signer's SDK client) or in the query string (presigned URLs for browsers) (`auth.rs`);
//! - bodies checked against `Content-MD5`, `x-amz-checksum-*` and a signed
//!   `x-amz-content-sha256` (`checksums.rs`); ETags are S3's: the MD5 of a body or part, and
//!   `<MD5 of the parts' MD5s>-<count>` for an object completed from parts (`multipart.rs`);
//! - GET and HEAD of objects, unauthenticated: the dev store serves one developer's machine.
//!   They are served on the signer's own origin, so never as content that runs there
//!   (`download_headers.rs`).
//!
//! Bodies stream to files under the store's directory, never into memory: through private
//! staged files that vanish with a failed request (`staging.rs`), to objects under the SHA-256
//! of their key (`objects.rs`) and the parts of uploads in progress under `.uploads/`
//! (`uploads.rs`). Every body is read within a bound: a request is authenticated before its
//! body is read, a POST form is metered until its policy verifies (`body_allowance.rs`). CORS
//! answers allow any origin and expose `ETag`. Errors come back as S3's XML.

mod auth;
mod body_allowance;
mod checksums;
pub mod download_headers;
mod multipart;
mod multipart_upload;
mod objects;
mod post_upload;
mod staging;
mod uploads;
mod xml;

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{OriginalUri, Path as UrlPath, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{options, post};
use axum::Router;
use futures_util::TryStreamExt;
use tokio::io::AsyncWriteExt;

use crate::sigv4::{self, SigningKeyCache};
use checksums::{BodyDigest, Digests, Expected};
pub use multipart::{MAX_PART_NUMBER, MAX_PART_SIZE, MIN_PART_SIZE};
pub use objects::{kept_headers, Meta, MetadataDirective, Objects};
use staging::Staged;
use uploads::Uploads;

#[derive(Clone)]
pub struct DevStore(Arc<Inner>);

struct Inner {
    bucket: String,
    objects: Objects,
    uploads: Uploads,
    credentials: sigv4::Credentials,
    signing_keys: SigningKeyCache,
}

impl DevStore {
    pub fn open(root: &Path, bucket: &str, credentials: sigv4::Credentials) -> std::io::Result<DevStore> {
        Ok(DevStore(Arc::new(Inner {
            bucket: bucket.to_owned(),
            objects: Objects::open(root, bucket)?,
            uploads: Uploads::open(&root.join(bucket))?,
            credentials,
            signing_keys: SigningKeyCache::default(),
        })))
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/{bucket}", post(post_upload::post_object).get(bucket_get).options(preflight))
            .route("/{bucket}/", post(post_upload::post_object).get(bucket_get).options(preflight))
            .route(
                "/{bucket}/{*key}",
                options(preflight).get(object).head(object).put(object).post(object).delete(object),
            )
            .layer(axum::middleware::map_response(allow_any_origin))
            .layer(axum::middleware::map_response(never_active))
            .with_state(self.clone())
    }

    fn check_bucket(&self, bucket: &str) -> Result<(), S3Error> {
        if bucket == self.0.bucket {
            Ok(())
        } else {
            Err(s3_error(StatusCode::NOT_FOUND, "NoSuchBucket", "The specified bucket does not exist"))
        }
    }

    fn authenticate(&self, method: &Method, uri: &OriginalUri, headers: &HeaderMap) -> Result<(), S3Error> {
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        auth::verify(method.as_str(), path_and_query, headers, &self.0.credentials, SystemTime::now())
            .map_err(|error| {
                let (status, code) = error.status_and_code();
                s3_error(status, code, &error.to_string())
            })
    }
}

/// A request's query, decoded: S3 picks the operation by which parameters are present.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Query {
        Query(serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// A request for a key, once its bucket is known to be ours.
pub(crate) struct ObjectRequest {
    bucket: String,
    key: String,
    query: Query,
    headers: HeaderMap,
    uri: OriginalUri,
}

/// Every request for a key: the operation follows from the method and the query, as in S3.
async fn object(
    State(store): State<DevStore>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    UrlPath((bucket, key)): UrlPath<(String, String)>,
    body: Body,
) -> Response {
    if let Err(error) = store.check_bucket(&bucket) {
        return error.into_response();
    }
    let query = Query::parse(query.as_deref());
    let public_read = (method == Method::GET && !query.has("uploadId")) || method == Method::HEAD;
    if public_read {
        return get_object(&store, &method, &headers, &key).await;
    }
    if let Err(error) = store.authenticate(&method, &uri, &headers) {
        return error.into_response();
    }
    let request = ObjectRequest { bucket, key, query, headers, uri };
    let query = &request.query;
    match method {
        Method::GET => multipart_upload::list_parts(&store, &request).await,
        Method::PUT if query.has("partNumber") || query.has("uploadId") => {
            multipart_upload::upload_part(&store, &request, body).await
        }
        Method::PUT => put_object(&store, &request, body).await,
        Method::POST if query.has("uploads") => multipart_upload::create(&store, &request).await,
        Method::POST if query.has("uploadId") => multipart_upload::complete(&store, &request, body).await,
        Method::DELETE if query.has("uploadId") => multipart_upload::abort(&store, &request).await,
        Method::DELETE => delete_object(&store, &request.key).await,
        _ => method_not_allowed(),
    }
}

/// GET on the bucket: ListMultipartUploads; listing objects is not needed by s3file.
async fn bucket_get(
    State(store): State<DevStore>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    UrlPath(bucket): UrlPath<String>,
) -> Response {
    if let Err(error) = store.check_bucket(&bucket).and_then(|()| store.authenticate(&method, &uri, &headers))
    {
        return error.into_response();
    }
    let query = Query::parse(query.as_deref());
    if query.has("uploads") {
        return multipart_upload::list_uploads(&store, &bucket, &query).await;
    }
    s3_error(
        StatusCode::NOT_IMPLEMENTED,
        "NotImplemented",
        "A header you provided implies functionality that is not implemented",
    )
    .into_response()
}

fn method_not_allowed() -> Response {
    s3_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
    )
    .into_response()
}

/// An S3 error, answered with S3's XML body.
#[derive(Debug)]
pub(crate) struct S3Error {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for S3Error {
    fn into_response(self) -> Response {
        let body = xml::document("Error", None, |root| {
            xml::text(root, "Code", self.code);
            xml::text(root, "Message", &self.message);
        });
        (self.status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
    }
}

pub(crate) fn s3_error(status: StatusCode, code: &'static str, message: &str) -> S3Error {
    S3Error { status, code, message: message.to_owned() }
}

/// Like a bucket whose CORS rule allows every origin and exposes `ETag`, which s3file requires.
async fn allow_any_origin(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("ETag"));
    response
}

/// No answer of the dev store is a page of the signer's origin: not an object (see
/// [`object_headers`]), nor an error or listing that echoes a key.
async fn never_active(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static(download_headers::NOSNIFF));
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(download_headers::SANDBOX));
    response
}

async fn preflight(headers: HeaderMap) -> Response {
    let requested =
        headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned().unwrap_or(HeaderValue::from_static("*"));
    (
        StatusCode::OK,
        [
            (header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, HEAD, PUT, POST, DELETE")),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, requested),
            (header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("3000")),
        ],
    )
        .into_response()
}

fn internal(error: std::io::Error) -> Response {
    S3Error::internal(error).into_response()
}

impl S3Error {
    /// A failure of the store itself: logged here, and answered without its details.
    fn internal(error: std::io::Error) -> S3Error {
        tracing::error!(%error, "dev store I/O failed");
        s3_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    }
}

fn etag_header(etag: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{etag}\"")).expect("hex is a valid header value")
}

/// Downloads are public in the dev store: it serves one developer's machine, and the demo's
/// links must open in a plain browser tab.
async fn get_object(store: &DevStore, method: &Method, headers: &HeaderMap, key: &str) -> Response {
    let meta = match store.0.objects.meta(key).await {
        Ok(Some(meta)) => meta,
        Ok(None) if method == Method::HEAD => return StatusCode::NOT_FOUND.into_response(),
        Ok(None) => {
            return s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.")
                .into_response()
        }
        Err(error) => return internal(error),
    };
    let mut response = if method == Method::HEAD {
        StatusCode::OK.into_response()
    } else {
        match tokio::fs::File::open(store.0.objects.data(key)).await {
            Ok(file) => {
                (StatusCode::OK, Body::from_stream(tokio_util::io::ReaderStream::new(file))).into_response()
            }
            Err(error) => return internal(error),
        }
    };
    object_headers(&meta, response.headers_mut());
    let checksum_mode = headers.get("x-amz-checksum-mode").and_then(|mode| mode.to_str().ok());
    if let (Some(mode), Some(crc)) = (checksum_mode, &meta.crc64nvme) {
        if mode.eq_ignore_ascii_case("ENABLED") {
            if let Ok(crc) = HeaderValue::from_str(crc) {
                response.headers_mut().insert("x-amz-checksum-crc64nvme", crc);
                response.headers_mut().insert("x-amz-checksum-type", HeaderValue::from_static("FULL_OBJECT"));
            }
        }
    }
    response
}

/// The headers an object is served with: what it was stored with, then the ones that keep it
/// from running on the signer's origin, decided on the type as sent.
fn object_headers(meta: &Meta, headers: &mut HeaderMap) {
    let content_type = HeaderValue::from_str(&meta.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let kept = meta.headers.iter().filter_map(|(name, value)| {
        Some((HeaderName::from_bytes(name.as_bytes()).ok()?, HeaderValue::from_str(value).ok()?))
    });
    headers.extend(kept);
    let stored_disposition =
        headers.remove(header::CONTENT_DISPOSITION).and_then(|value| value.to_str().ok().map(str::to_owned));
    let safety = download_headers::download_headers(
        content_type.to_str().unwrap_or_default(),
        stored_disposition.as_deref(),
    );
    for (name, value) in safety {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
    headers.insert(header::ETAG, etag_header(&meta.etag));
}

/// The headers of a request S3 keeps with the object it stores.
fn kept_request_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    kept_headers(headers.iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))))
}

/// The object's type as the request gives it, or S3's default.
fn content_type_of(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("binary/octet-stream")
        .to_owned()
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

impl From<checksums::DigestError> for S3Error {
    fn from(error: checksums::DigestError) -> S3Error {
        S3Error { status: error.status, code: error.code, message: error.message }
    }
}

/// PutObject, by the signer's SDK (header signature) or a browser (presigned URL), and
/// CopyObject.
async fn put_object(store: &DevStore, request: &ObjectRequest, body: Body) -> Response {
    let headers = &request.headers;
    if let Some(source) = headers.get("x-amz-copy-source") {
        return copy_object(store, source, &request.key, headers).await;
    }
    let expected = match Expected::from_headers(headers) {
        Ok(expected) => expected,
        Err(error) => return S3Error::from(error).into_response(),
    };
    let (staged, digests) = match receive_checked(store, body, headers, &expected, MAX_PART_SIZE).await {
        Ok(received) => received,
        Err(response) => return response,
    };
    let meta = Meta {
        key: request.key.clone(),
        content_type: content_type_of(headers),
        size: digests.size,
        etag: digests.etag(),
        headers: kept_request_headers(headers),
        crc64nvme: None,
    };
    match store.0.objects.commit(staged, meta).await {
        Ok(meta) => {
            let mut response = (StatusCode::OK, [(header::ETAG, etag_header(&meta.etag))]).into_response();
            echo_checksum(&expected, response.headers_mut());
            response
        }
        Err(error) => internal(error),
    }
}

/// S3 answers a part or object sent with a checksum header with the same header.
fn echo_checksum(expected: &Expected, headers: &mut HeaderMap) {
    if let Some(checksum) = &expected.checksum {
        if let Ok(value) = HeaderValue::from_str(&checksum.value) {
            headers.insert(checksum.header, value);
        }
    }
}

fn too_large() -> S3Error {
    s3_error(
        StatusCode::BAD_REQUEST,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
    )
}

/// Streams a body of at most `max` bytes to a staged file and checks it against what the
/// request says it is; on any failure the staged file is gone and the answer to give is
/// returned.
async fn receive_checked(
    store: &DevStore,
    body: Body,
    headers: &HeaderMap,
    expected: &Expected,
    max: u64,
) -> Result<(Staged, Digests), Response> {
    let announced = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|length| length > max) {
        return Err(too_large().into_response());
    }
    let (staged, file) = store.0.objects.stage().map_err(internal)?;
    let digests = match receive(body, file, expected.digest(), max).await {
        Ok(Some(digests)) => digests,
        Ok(None) => return Err(too_large().into_response()),
        Err(error) => return Err(internal(error)),
    };
    expected.check(&digests).map_err(|error| S3Error::from(error).into_response())?;
    Ok((staged, digests))
}

/// Streams a body into `file`, digesting it; `None` once it grows past `max` bytes.
async fn receive(
    body: Body,
    mut file: tokio::fs::File,
    mut digest: BodyDigest,
    max: u64,
) -> std::io::Result<Option<Digests>> {
    let mut size = 0u64;
    let mut stream = body.into_data_stream().map_err(std::io::Error::other);
    while let Some(chunk) = stream.try_next().await? {
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

/// The key an `x-amz-copy-source` header names in this bucket.
fn copy_source(store: &DevStore, source: &HeaderValue) -> Result<String, S3Error> {
    let malformed = || {
        s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
    };
    let source = source.to_str().map_err(|_| malformed())?.trim_start_matches('/');
    let decoded = percent_encoding::percent_decode_str(source).decode_utf8_lossy();
    let (bucket, from) = decoded.split_once('/').ok_or_else(malformed)?;
    store.check_bucket(bucket)?;
    Ok(from.to_owned())
}

/// `x-amz-metadata-directive`: `COPY` (the default) keeps the source's type and headers,
/// `REPLACE` stores the request's.
fn metadata_directive(headers: &HeaderMap) -> Result<MetadataDirective, S3Error> {
    match headers.get("x-amz-metadata-directive").map(HeaderValue::as_bytes) {
        None | Some(b"COPY") => Ok(MetadataDirective::Copy),
        Some(b"REPLACE") => Ok(MetadataDirective::Replace {
            content_type: content_type_of(headers),
            headers: kept_request_headers(headers),
        }),
        Some(_) => Err(s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", "Unknown metadata directive.")),
    }
}

async fn copy_object(store: &DevStore, source: &HeaderValue, key: &str, headers: &HeaderMap) -> Response {
    let copied = copy_source(store, source).and_then(|from| Ok((from, metadata_directive(headers)?)));
    let (from, directive) = match copied {
        Ok(copied) => copied,
        Err(error) => return error.into_response(),
    };
    match store.0.objects.copy(&from, key, directive).await {
        Ok(Some(meta)) => {
            let body = xml::document("CopyObjectResult", None, |root| {
                xml::text(root, "LastModified", &multipart::timestamp(uploads::now_ms()));
                xml::text(root, "ETag", &format!("\"{}\"", meta.etag));
            });
            xml_response(StatusCode::OK, body)
        }
        Ok(None) => {
            s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.").into_response()
        }
        Err(error) => internal(error),
    }
}

async fn delete_object(store: &DevStore, key: &str) -> Response {
    match store.0.objects.delete(key).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => internal(error),
    }
}

#[cfg(test)]
mod tests;
