//! Multipart uploads over HTTP: CreateMultipartUpload, UploadPart (and UploadPartCopy),
//! ListParts, CompleteMultipartUpload, AbortMultipartUpload and ListMultipartUploads. The
//! request is authenticated before it gets here; what S3 checks is in [`super::multipart`], the
//! files in [`super::uploads`].

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::checksums::Expected;
use super::multipart::{self, no_such_upload, MAX_COMPLETE_BODY, MAX_PART_SIZE, MIN_PART_SIZE};
use super::uploads::{initiation_ms, UploadMeta};
use super::xml;
use super::{
    content_type_of, copy_source, echo_checksum, etag_header, internal, kept_request_headers,
    receive_checked, s3_error, too_large, xml_response, DevStore, ObjectRequest, S3Error,
};
use crate::whole_checksum::Crc64Nvme;

/// Request header `name` as text (empty when it is not); `None` when absent.
fn header<'a>(request: &'a ObjectRequest, name: &str) -> Option<&'a str> {
    request.headers.get(name).map(|value| value.to_str().unwrap_or_default())
}

/// The upload named by `uploadId`, which must be in progress for this very key.
async fn upload_of(store: &DevStore, request: &ObjectRequest) -> Result<(String, UploadMeta), Response> {
    let id = request.query.get("uploadId").unwrap_or_default().to_owned();
    match store.0.uploads.get(&id).await {
        Ok(Some(meta)) if meta.key == request.key => Ok((id, meta)),
        Ok(_) => Err(no_such_upload().into_response()),
        Err(error) => Err(internal(error)),
    }
}

pub(super) async fn create(store: &DevStore, request: &ObjectRequest) -> Response {
    let algorithm = header(request, "x-amz-checksum-algorithm");
    let checksum = match multipart::upload_checksum(algorithm, header(request, "x-amz-checksum-type")) {
        Ok(checksum) => checksum,
        Err(error) => return error.into_response(),
    };
    let meta = UploadMeta {
        key: request.key.clone(),
        content_type: content_type_of(&request.headers),
        headers: kept_request_headers(&request.headers),
        initiated_ms: initiation_ms(),
        checksum,
    };
    match store.0.uploads.create(&meta).await {
        Ok(id) => {
            xml_response(StatusCode::OK, multipart::initiate_result(&request.bucket, &request.key, &id))
        }
        Err(error) => internal(error),
    }
}

pub(super) async fn upload_part(store: &DevStore, request: &ObjectRequest, body: Body) -> Response {
    let number = match multipart::part_number(request.query.get("partNumber").unwrap_or_default()) {
        Ok(number) => number,
        Err(error) => return error.into_response(),
    };
    let (id, _) = match upload_of(store, request).await {
        Ok(upload) => upload,
        Err(response) => return response,
    };
    if let Some(source) = request.headers.get("x-amz-copy-source") {
        return upload_part_copy(store, request, &id, number, source).await;
    }
    let expected = match Expected::from_headers(&request.headers) {
        Ok(expected) => expected,
        Err(error) => return S3Error::from(error).into_response(),
    };
    let (staged, digests) =
        match receive_checked(store, body, &request.headers, &expected, MAX_PART_SIZE).await {
            Ok(received) => received,
            Err(response) => return response,
        };
    match store.0.uploads.put_part(&id, number, staged, digests.etag(), digests.size, digests.crc64nvme).await
    {
        Ok(Some(part)) => {
            let mut response = (StatusCode::OK, [(header::ETAG, etag_header(&part.etag))]).into_response();
            echo_checksum(&expected, response.headers_mut());
            response
        }
        Ok(None) => no_such_upload().into_response(),
        Err(error) => internal(error),
    }
}

/// `bytes=first-last` of an object of `size` bytes, as (start, length).
fn copy_range(value: Option<&str>, size: u64) -> Result<(u64, u64), S3Error> {
    let Some(value) = value else { return Ok((0, size)) };
    let malformed = || {
        s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        )
    };
    let (first, last) =
        value.trim().strip_prefix("bytes=").and_then(|range| range.split_once('-')).ok_or_else(malformed)?;
    let (first, last) =
        (first.parse::<u64>().map_err(|_| malformed())?, last.parse::<u64>().map_err(|_| malformed())?);
    if first > last || last >= size {
        return Err(s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            &format!("Range specified is not valid for source object of size: {size}"),
        ));
    }
    Ok((first, last - first + 1))
}

async fn upload_part_copy(
    store: &DevStore,
    request: &ObjectRequest,
    id: &str,
    number: u32,
    source: &HeaderValue,
) -> Response {
    let from = match copy_source(store, source) {
        Ok(from) => from,
        Err(error) => return error.into_response(),
    };
    let meta = match store.0.objects.meta(&from).await {
        Ok(Some(meta)) => meta,
        Ok(None) => {
            return s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.")
                .into_response()
        }
        Err(error) => return internal(error),
    };
    let range =
        request.headers.get("x-amz-copy-source-range").map(|value| value.to_str().unwrap_or_default());
    let (start, length) = match copy_range(range, meta.size) {
        Ok(range) if range.1 <= MAX_PART_SIZE => range,
        Ok(_) => return too_large().into_response(),
        Err(error) => return error.into_response(),
    };
    let (staged, target) = match store.0.objects.stage() {
        Ok(staged) => staged,
        Err(error) => return internal(error),
    };
    let (etag, crc64nvme) = match copy_bytes(&store.0.objects.data(&from), start, length, target).await {
        Ok(copied) => copied,
        Err(error) => return internal(error),
    };
    match store.0.uploads.put_part(id, number, staged, etag, length, crc64nvme).await {
        Ok(Some(part)) => xml_response(
            StatusCode::OK,
            xml::document("CopyPartResult", None, |root| {
                xml::text(root, "LastModified", &multipart::timestamp(part.last_modified_ms));
                xml::text(root, "ETag", &format!("\"{}\"", part.etag));
            }),
        ),
        Ok(None) => no_such_upload().into_response(),
        Err(error) => internal(error),
    }
}

/// Copies `length` bytes from `start` of `from` into `target`; returns their hex MD5 and
/// their CRC-64/NVME.
async fn copy_bytes(
    from: &std::path::Path,
    start: u64,
    length: u64,
    mut target: tokio::fs::File,
) -> std::io::Result<(String, Crc64Nvme)> {
    use md5::Digest as _;
    let mut source = tokio::fs::File::open(from).await?;
    source.seek(std::io::SeekFrom::Start(start)).await?;
    let mut source = source.take(length);
    let mut md5 = md5::Md5::new();
    let mut crc = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme);
    let mut buffer = vec![0u8; 256 * 1024];
    let mut copied = 0u64;
    loop {
        let read = source.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        md5.update(&buffer[..read]);
        crc.update(&buffer[..read]);
        target.write_all(&buffer[..read]).await?;
        copied += read as u64;
    }
    target.flush().await?;
    if copied != length {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the source object is shorter than its metadata says",
        ));
    }
    Ok((hex::encode(md5.finalize()), Crc64Nvme(crc.finalize())))
}

pub(super) async fn list_parts(store: &DevStore, request: &ObjectRequest) -> Response {
    let (id, _) = match upload_of(store, request).await {
        Ok(upload) => upload,
        Err(response) => return response,
    };
    let paging = multipart::part_number_marker(request.query.get("part-number-marker"))
        .and_then(|marker| Ok((marker, multipart::max_listed(request.query.get("max-parts"), "max-parts")?)));
    let (marker, max) = match paging {
        Ok(paging) => paging,
        Err(error) => return error.into_response(),
    };
    match store.0.uploads.parts(&id).await {
        Ok(Some(parts)) => xml_response(
            StatusCode::OK,
            multipart::list_parts(&request.bucket, &request.key, &id, &parts, marker, max),
        ),
        Ok(None) => no_such_upload().into_response(),
        Err(error) => internal(error),
    }
}

pub(super) async fn complete(store: &DevStore, request: &ObjectRequest, body: Body) -> Response {
    let (id, upload) = match upload_of(store, request).await {
        Ok(upload) => upload,
        Err(response) => return response,
    };
    let requested = match read_complete(&request.headers, body).await {
        Ok(requested) => requested,
        Err(error) => return error.into_response(),
    };
    let claimed = header(request, "x-amz-checksum-crc64nvme");
    let claimed_crc = match multipart::claimed_checksum(claimed, header(request, "x-amz-checksum-type")) {
        Ok(claimed) => claimed,
        Err(error) => return error.into_response(),
    };
    // Checked once before taking the upload out of progress, so a refused list leaves it as it
    // was, and once after, against the parts as they are now.
    let parts = match store.0.uploads.parts(&id).await {
        Ok(Some(parts)) => parts,
        Ok(None) => return no_such_upload().into_response(),
        Err(error) => return internal(error),
    };
    let checked = multipart::complete(&requested, &parts, MIN_PART_SIZE)
        .and_then(|(_, joined)| multipart::whole_object_checksum(upload.checksum, claimed_crc, &joined));
    if let Err(error) = checked {
        return error.into_response();
    }
    let claimed = match store.0.uploads.claim(&id).await {
        Ok(Some(claimed)) => claimed,
        Ok(None) => return no_such_upload().into_response(),
        Err(error) => return internal(error),
    };
    let parts = match claimed.parts().await {
        Ok(parts) => parts,
        Err(error) => {
            let _ = claimed.release().await;
            return internal(error);
        }
    };
    let stored: Vec<_> = parts.iter().map(|(part, _)| part.clone()).collect();
    let checked = multipart::complete(&requested, &stored, MIN_PART_SIZE).and_then(|(etag, joined)| {
        let whole = multipart::whole_object_checksum(upload.checksum, claimed_crc, &joined)?;
        Ok((etag, joined, whole))
    });
    let (etag, joined, whole) = match checked {
        Ok(checked) => checked,
        Err(error) => {
            let _ = claimed.release().await;
            return error.into_response();
        }
    };
    let files: Vec<&std::path::Path> = joined
        .iter()
        .filter_map(|part| parts.binary_search_by_key(&part.number, |(stored, _)| stored.number).ok())
        .map(|index| parts[index].1.as_path())
        .collect();
    let joined_file = match store.0.objects.stage() {
        Ok((staged, target)) => join_files(&files, target).await.map(|()| staged),
        Err(error) => Err(error),
    };
    let staged = match joined_file {
        Ok(staged) => staged,
        Err(error) => {
            let _ = claimed.release().await;
            return internal(error);
        }
    };
    let meta = super::Meta {
        key: upload.key.clone(),
        content_type: upload.content_type,
        size: joined.iter().map(|part| part.size).sum(),
        etag: etag.clone(),
        headers: upload.headers,
        crc64nvme: whole.map(Crc64Nvme::to_base64),
    };
    if let Err(error) = store.0.objects.commit(staged, meta).await {
        let _ = claimed.release().await;
        return internal(error);
    }
    if let Err(error) = claimed.remove().await {
        tracing::warn!(%error, "dev store: could not remove a completed upload's parts");
    }
    let host = request.headers.get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or("localhost");
    let location = format!("http://{host}{}", request.uri.path());
    let result = multipart::complete_result(&location, &request.bucket, &upload.key, &etag, whole);
    xml_response(StatusCode::OK, result)
}

/// Reads and checks the `CompleteMultipartUpload` document.
async fn read_complete(headers: &HeaderMap, body: Body) -> Result<Vec<multipart::RequestedPart>, S3Error> {
    // The request's `x-amz-checksum-crc64nvme` is the object's, not the document's.
    let mut headers = headers.clone();
    headers.remove("x-amz-checksum-crc64nvme");
    let expected = Expected::from_headers(&headers)?;
    let bytes = axum::body::to_bytes(body, MAX_COMPLETE_BODY).await.map_err(|_| {
        s3_error(StatusCode::BAD_REQUEST, "MaxMessageLengthExceeded", "Your request was too big.")
    })?;
    let mut digest = expected.digest();
    digest.update(&bytes);
    expected.check(&digest.finish())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        s3_error(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
        )
    })?;
    multipart::parse_complete(text)
}

async fn join_files(files: &[&std::path::Path], mut target: tokio::fs::File) -> std::io::Result<()> {
    for file in files {
        let mut source = tokio::fs::File::open(file).await?;
        tokio::io::copy(&mut source, &mut target).await?;
    }
    target.flush().await?;
    Ok(())
}

pub(super) async fn abort(store: &DevStore, request: &ObjectRequest) -> Response {
    let (id, _) = match upload_of(store, request).await {
        Ok(upload) => upload,
        Err(response) => return response,
    };
    match store.0.uploads.claim(&id).await {
        Ok(Some(claimed)) => match claimed.remove().await {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(error) => internal(error),
        },
        Ok(None) => no_such_upload().into_response(),
        Err(error) => internal(error),
    }
}

pub(super) async fn list_uploads(store: &DevStore, bucket: &str, query: &super::Query) -> Response {
    if query.get("delimiter").is_some_and(|delimiter| !delimiter.is_empty()) {
        return s3_error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "The dev store lists multipart uploads without a delimiter.",
        )
        .into_response();
    }
    let max_uploads = match multipart::max_listed(query.get("max-uploads"), "max-uploads") {
        Ok(max) => max,
        Err(error) => return error.into_response(),
    };
    let list = multipart::UploadsQuery {
        prefix: query.get("prefix").unwrap_or_default().to_owned(),
        key_marker: query.get("key-marker").filter(|marker| !marker.is_empty()).map(str::to_owned),
        upload_id_marker: query
            .get("upload-id-marker")
            .filter(|marker| !marker.is_empty())
            .map(str::to_owned),
        max_uploads,
        url_encoded: query.get("encoding-type") == Some("url"),
    };
    match store.0.uploads.list().await {
        Ok(uploads) => xml_response(StatusCode::OK, multipart::list_uploads(bucket, uploads, &list)),
        Err(error) => internal(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_ranges_are_inclusive_byte_offsets_within_the_object() {
        assert_eq!(copy_range(None, 10).unwrap(), (0, 10));
        assert_eq!(copy_range(Some("bytes=0-9"), 10).unwrap(), (0, 10));
        assert_eq!(copy_range(Some("bytes=5-5"), 10).unwrap(), (5, 1));
        for refused in ["bytes=0-10", "bytes=5-4", "0-9", "bytes=-9", "bytes=a-b"] {
            assert_eq!(copy_range(Some(refused), 10).unwrap_err().code, "InvalidArgument", "{refused}");
        }
    }
}
