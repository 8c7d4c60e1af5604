//! Multipart uploads as S3 defines them, without I/O: part numbers and upload ids, the
//! `CompleteMultipartUpload` document and its checks, the multipart ETag, pagination, and the
//! XML answers.

use std::borrow::Cow;

use aws_smithy_xml::decode::{try_data, Document};
use http::StatusCode;
use md5::Digest as _;

use serde::{Deserialize, Serialize};

use super::xml::{self, S3_NAMESPACE};
use super::{s3_error, S3Error};
use crate::whole_checksum::Crc64Nvme;

/// S3's smallest part, except for the last one of an upload.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's largest part (and largest single PUT).
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Part numbers run from 1 to this.
pub const MAX_PART_NUMBER: u32 = 10_000;
/// The most entries one list answers with, and the default.
const MAX_LISTED: usize = 1000;
/// A `CompleteMultipartUpload` document of 10,000 parts with checksums fits with room to spare.
pub const MAX_COMPLETE_BODY: usize = 4 * 1024 * 1024;

pub fn no_such_upload() -> S3Error {
    s3_error(
        StatusCode::NOT_FOUND,
        "NoSuchUpload",
        "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
}

fn malformed_xml() -> S3Error {
    s3_error(
        StatusCode::BAD_REQUEST,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

fn invalid_part() -> S3Error {
    s3_error(
        StatusCode::BAD_REQUEST,
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    )
}

/// `partNumber`, which S3 takes from 1 to 10,000.
pub fn part_number(value: &str) -> Result<u32, S3Error> {
    value.parse::<u32>().ok().filter(|number| (1..=MAX_PART_NUMBER).contains(number)).ok_or_else(|| {
        s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
        )
    })
}

/// A fresh upload id: the time it was made, then randomness, in hex. Ids therefore sort in the
/// order uploads were initiated, which is how S3 lists the uploads of one key.
pub fn new_upload_id(initiated_ms: i64, random: [u8; 8]) -> String {
    format!("{:016x}{}", initiated_ms.max(0), hex::encode(random))
}

/// Whether `id` could be one of ours; anything else names no upload (and never a path).
pub fn is_upload_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

/// A part the client asks to assemble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedPart {
    pub number: u32,
    /// Without quotes.
    pub etag: String,
}

/// Parses `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"…"</ETag></Part>…`.
/// Checksum elements are accepted and not compared: each part's checksum header was checked
/// when the part arrived.
pub fn parse_complete(xml: &str) -> Result<Vec<RequestedPart>, S3Error> {
    let mut document = Document::new(xml);
    let mut root = document.root_element().map_err(|_| malformed_xml())?;
    if root.start_el().local() != "CompleteMultipartUpload" {
        return Err(malformed_xml());
    }
    let mut parts = Vec::new();
    while let Some(mut part) = root.next_tag() {
        if part.start_el().local() != "Part" {
            return Err(malformed_xml());
        }
        let (mut number, mut etag) = (None, None);
        while let Some(mut field) = part.next_tag() {
            match field.start_el().local() {
                "PartNumber" => {
                    let text = try_data(&mut field).map_err(|_| malformed_xml())?;
                    number = Some(text.trim().parse::<u32>().map_err(|_| malformed_xml())?);
                }
                "ETag" => {
                    etag = Some(unquote(&try_data(&mut field).map_err(|_| malformed_xml())?).to_owned())
                }
                _ => {}
            }
        }
        match (number, etag) {
            (Some(number), Some(etag)) => parts.push(RequestedPart { number, etag }),
            _ => return Err(malformed_xml()),
        }
        if parts.len() > MAX_PART_NUMBER as usize {
            return Err(malformed_xml());
        }
    }
    if parts.is_empty() {
        return Err(malformed_xml());
    }
    Ok(parts)
}

/// An ETag as sent, with or without its quotes.
pub fn unquote(etag: &str) -> &str {
    let etag = etag.trim();
    etag.strip_prefix('"').and_then(|etag| etag.strip_suffix('"')).unwrap_or(etag)
}

/// A part as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPart {
    pub number: u32,
    /// Hex MD5, without quotes.
    pub etag: String,
    pub size: u64,
    pub last_modified_ms: i64,
    /// `None` for a part recorded before parts had one.
    pub crc64nvme: Option<Crc64Nvme>,
}

/// The checksum an upload was created with (`x-amz-checksum-algorithm`, `x-amz-checksum-type`).
/// The dev store keeps the full-object CRC-64/NVME, the one the signer asks for, and no other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadChecksum {
    #[default]
    None,
    Crc64NvmeFullObject,
}

/// What CreateMultipartUpload's `x-amz-checksum-algorithm` and `x-amz-checksum-type` ask for.
pub fn upload_checksum(algorithm: Option<&str>, kind: Option<&str>) -> Result<UploadChecksum, S3Error> {
    let invalid = |message: &str| s3_error(StatusCode::BAD_REQUEST, "InvalidRequest", message);
    let kind = kind.map(str::to_ascii_uppercase);
    match (algorithm.map(str::to_ascii_uppercase).as_deref(), kind.as_deref()) {
        (None, None) => Ok(UploadChecksum::None),
        (None, Some(_)) => Err(invalid(
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
        )),
        (Some("CRC64NVME"), None | Some("FULL_OBJECT")) => Ok(UploadChecksum::Crc64NvmeFullObject),
        (Some("CRC64NVME"), Some("COMPOSITE")) => {
            Err(invalid("The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."))
        }
        (Some("CRC64NVME"), Some(_)) => Err(invalid("Value for x-amz-checksum-type header is invalid.")),
        (Some("CRC32" | "CRC32C" | "SHA1" | "SHA256"), _) => Err(s3_error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "The dev store keeps the CRC64NVME full-object checksum of a multipart upload, and no other.",
        )),
        (Some(_), _) => Err(invalid("Value for x-amz-checksum-algorithm header is invalid.")),
    }
}

/// The object's checksum at CompleteMultipartUpload, as S3 checks it: for an upload created
/// with the full-object CRC-64/NVME, the parts' CRCs joined, which must equal `claimed` (the
/// request's `x-amz-checksum-crc64nvme`) when the client sends one. An upload created without
/// a checksum takes none.
pub fn whole_object_checksum(
    checksum: UploadChecksum,
    claimed: Option<Crc64Nvme>,
    joined: &[&StoredPart],
) -> Result<Option<Crc64Nvme>, S3Error> {
    match checksum {
        UploadChecksum::None if claimed.is_some() => Err(s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "The upload was created without a checksum algorithm, so the complete request may not carry one.",
        )),
        UploadChecksum::None => Ok(None),
        UploadChecksum::Crc64NvmeFullObject => {
            let mut pieces = Vec::with_capacity(joined.len());
            for part in joined {
                let crc = part.crc64nvme.ok_or_else(|| {
                    s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "A part has no checksum")
                })?;
                pieces.push((crc, part.size));
            }
            let computed = Crc64Nvme::join(pieces);
            if claimed.is_some_and(|claimed| claimed != computed) {
                return Err(s3_error(
                    StatusCode::BAD_REQUEST,
                    "BadDigest",
                    "The CRC64NVME you specified did not match the calculated checksum.",
                ));
            }
            Ok(Some(computed))
        }
    }
}

/// The object's checksum a CompleteMultipartUpload request claims: its
/// `x-amz-checksum-crc64nvme`, with an `x-amz-checksum-type` of `FULL_OBJECT` if it has one.
pub fn claimed_checksum(crc64nvme: Option<&str>, kind: Option<&str>) -> Result<Option<Crc64Nvme>, S3Error> {
    if kind.is_some_and(|kind| !kind.eq_ignore_ascii_case("FULL_OBJECT")) {
        return Err(s3_error(
            StatusCode::BAD_REQUEST,
            "BadDigest",
            "The checksum type does not match the one the upload was created with.",
        ));
    }
    crc64nvme
        .map(|text| {
            Crc64Nvme::from_base64(text.trim()).ok_or_else(|| {
                s3_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequest",
                    "Value for x-amz-checksum-crc64nvme header is invalid.",
                )
            })
        })
        .transpose()
}

/// Checks the requested parts against the stored ones (`stored` sorted by number), as S3 does:
/// ascending part numbers, each uploaded with that ETag, each but the last at least
/// `min_part_size` bytes. Returns the object's ETag (unquoted) and the parts to join, in order.
pub fn complete<'a>(
    requested: &[RequestedPart],
    stored: &'a [StoredPart],
    min_part_size: u64,
) -> Result<(String, Vec<&'a StoredPart>), S3Error> {
    if requested.windows(2).any(|pair| pair[0].number >= pair[1].number) {
        return Err(s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidPartOrder",
            "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
        ));
    }
    let mut joined = Vec::with_capacity(requested.len());
    for part in requested {
        let found = stored
            .binary_search_by_key(&part.number, |stored| stored.number)
            .map(|index| &stored[index])
            .ok()
            .filter(|stored| stored.etag.eq_ignore_ascii_case(&part.etag))
            .ok_or_else(invalid_part)?;
        joined.push(found);
    }
    if joined.iter().rev().skip(1).any(|part| part.size < min_part_size) {
        return Err(s3_error(
            StatusCode::BAD_REQUEST,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed object size.",
        ));
    }
    let etag = multipart_etag(joined.iter().map(|part| part.etag.as_str())).ok_or_else(|| {
        s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "A part's ETag is corrupt")
    })?;
    Ok((etag, joined))
}

/// S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, a dash, the count.
pub fn multipart_etag<'a>(part_etags: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut md5 = md5::Md5::new();
    let mut count = 0;
    for etag in part_etags {
        md5.update(hex::decode(etag).ok()?);
        count += 1;
    }
    Some(format!("{}-{count}", hex::encode(md5.finalize())))
}

/// `max-parts` / `max-uploads`: a count, at most 1000 (S3 answers no more even when asked).
pub fn max_listed(value: Option<&str>, name: &str) -> Result<usize, S3Error> {
    match value {
        None => Ok(MAX_LISTED),
        Some(value) => value.parse::<usize>().map(|max| max.min(MAX_LISTED)).map_err(|_| {
            s3_error(
                StatusCode::BAD_REQUEST,
                "InvalidArgument",
                &format!("Provided {name} not an integer or within integer range"),
            )
        }),
    }
}

/// `part-number-marker`: list the parts after this number.
pub fn part_number_marker(value: Option<&str>) -> Result<u32, S3Error> {
    value.map_or(Ok(0), |value| {
        value.parse::<u32>().map_err(|_| {
            s3_error(
                StatusCode::BAD_REQUEST,
                "InvalidArgument",
                "Provided part-number-marker not an integer or within integer range",
            )
        })
    })
}

/// `2026-01-01T00:00:00.000Z`, S3's timestamps in XML.
pub fn timestamp(unix_ms: i64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.millisecond()
    )
}

pub fn initiate_result(bucket: &str, key: &str, upload_id: &str) -> String {
    xml::document("InitiateMultipartUploadResult", Some(S3_NAMESPACE), |root| {
        xml::text(root, "Bucket", bucket);
        xml::text(root, "Key", key);
        xml::text(root, "UploadId", upload_id);
    })
}

pub fn complete_result(
    location: &str,
    bucket: &str,
    key: &str,
    etag: &str,
    crc64nvme: Option<Crc64Nvme>,
) -> String {
    xml::document("CompleteMultipartUploadResult", Some(S3_NAMESPACE), |root| {
        xml::text(root, "Location", location);
        xml::text(root, "Bucket", bucket);
        xml::text(root, "Key", key);
        xml::text(root, "ETag", &format!("\"{etag}\""));
        if let Some(crc) = crc64nvme {
            xml::text(root, "ChecksumCRC64NVME", &crc.to_base64());
            xml::text(root, "ChecksumType", "FULL_OBJECT");
        }
    })
}

/// `ListPartsResult` for the parts after `marker` (`parts` sorted by number).
pub fn list_parts(
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: &[StoredPart],
    marker: u32,
    max: usize,
) -> String {
    let after: Vec<&StoredPart> = parts.iter().filter(|part| part.number > marker).collect();
    let page = &after[..after.len().min(max)];
    let truncated = page.len() < after.len();
    xml::document("ListPartsResult", Some(S3_NAMESPACE), |root| {
        xml::text(root, "Bucket", bucket);
        xml::text(root, "Key", key);
        xml::text(root, "UploadId", upload_id);
        xml::text(root, "PartNumberMarker", &marker.to_string());
        if let Some(last) = page.last() {
            xml::text(root, "NextPartNumberMarker", &last.number.to_string());
        }
        xml::text(root, "MaxParts", &max.to_string());
        xml::text(root, "IsTruncated", if truncated { "true" } else { "false" });
        for part in page {
            xml::element(root, "Part", |element| {
                xml::text(element, "PartNumber", &part.number.to_string());
                xml::text(element, "LastModified", &timestamp(part.last_modified_ms));
                xml::text(element, "ETag", &format!("\"{}\"", part.etag));
                xml::text(element, "Size", &part.size.to_string());
            });
        }
        xml::text(root, "StorageClass", "STANDARD");
    })
}

/// An upload in progress, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSummary {
    pub key: String,
    pub upload_id: String,
    pub initiated_ms: i64,
}

/// What `ListMultipartUploads` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadsQuery {
    pub prefix: String,
    pub key_marker: Option<String>,
    pub upload_id_marker: Option<String>,
    pub max_uploads: usize,
    /// `encoding-type=url`: keys come back percent-encoded.
    pub url_encoded: bool,
}

/// `ListMultipartUploadsResult`: the uploads under the prefix after the markers, by key and
/// then by upload id (which is initiation order), as S3 orders them.
pub fn list_uploads(bucket: &str, mut uploads: Vec<UploadSummary>, query: &UploadsQuery) -> String {
    uploads.retain(|upload| upload.key.starts_with(&query.prefix));
    if let Some(key_marker) = &query.key_marker {
        uploads.retain(|upload| match &query.upload_id_marker {
            Some(id_marker) => {
                upload.key > *key_marker || (upload.key == *key_marker && upload.upload_id > *id_marker)
            }
            None => upload.key > *key_marker,
        });
    }
    uploads.sort_by(|a, b| (&a.key, &a.upload_id).cmp(&(&b.key, &b.upload_id)));
    let truncated = uploads.len() > query.max_uploads;
    uploads.truncate(query.max_uploads);
    fn encoded(key: &str, url_encoded: bool) -> Cow<'_, str> {
        match url_encoded {
            true => Cow::Owned(crate::keys::url_path(key)),
            false => Cow::Borrowed(key),
        }
    }
    let encode = |key| encoded(key, query.url_encoded);
    xml::document("ListMultipartUploadsResult", Some(S3_NAMESPACE), |root| {
        xml::text(root, "Bucket", bucket);
        xml::text(root, "KeyMarker", &encode(query.key_marker.as_deref().unwrap_or_default()));
        xml::text(root, "UploadIdMarker", query.upload_id_marker.as_deref().unwrap_or_default());
        if let (true, Some(last)) = (truncated, uploads.last()) {
            xml::text(root, "NextKeyMarker", &encode(&last.key));
            xml::text(root, "NextUploadIdMarker", &last.upload_id);
        }
        if query.url_encoded {
            xml::text(root, "EncodingType", "url");
        }
        xml::text(root, "Prefix", &encode(&query.prefix));
        xml::text(root, "MaxUploads", &query.max_uploads.to_string());
        xml::text(root, "IsTruncated", if truncated { "true" } else { "false" });
        for upload in &uploads {
            xml::element(root, "Upload", |element| {
                xml::text(element, "Key", &encode(&upload.key));
                xml::text(element, "UploadId", &upload.upload_id);
                xml::text(element, "StorageClass", "STANDARD");
                xml::text(element, "Initiated", &timestamp(upload.initiated_ms));
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(number: u32, body: &[u8]) -> StoredPart {
        StoredPart {
            number,
            etag: hex::encode(md5::Md5::digest(body)),
            size: body.len() as u64,
            last_modified_ms: 0,
            crc64nvme: Some(Crc64Nvme::of(body)),
        }
    }

    #[test]
    fn uploads_are_created_with_the_full_object_crc64nvme_or_none() {
        assert_eq!(upload_checksum(None, None).unwrap(), UploadChecksum::None);
        for kind in [None, Some("FULL_OBJECT"), Some("full_object")] {
            assert_eq!(
                upload_checksum(Some("CRC64NVME"), kind).unwrap(),
                UploadChecksum::Crc64NvmeFullObject
            );
        }
        let refused = [
            (None, Some("FULL_OBJECT"), "InvalidRequest"),
            (Some("CRC64NVME"), Some("COMPOSITE"), "InvalidRequest"),
            (Some("CRC64NVME"), Some("WHOLE"), "InvalidRequest"),
            (Some("MD5"), None, "InvalidRequest"),
            (Some("CRC32C"), Some("FULL_OBJECT"), "NotImplemented"),
        ];
        for (algorithm, kind, code) in refused {
            assert_eq!(upload_checksum(algorithm, kind).unwrap_err().code, code, "{algorithm:?} {kind:?}");
        }
    }

    #[test]
    fn completion_checks_the_claimed_crc64nvme_against_the_joined_parts() {
        let (first, last) = (vec![7u8; 5 * 1024 * 1024], b"the rest".to_vec());
        let parts = [stored(1, &first), stored(2, &last)];
        let joined: Vec<&StoredPart> = parts.iter().collect();
        let whole = Crc64Nvme::of(&[first.as_slice(), last.as_slice()].concat());
        let full = UploadChecksum::Crc64NvmeFullObject;
        assert_eq!(whole_object_checksum(full, Some(whole), &joined).unwrap(), Some(whole));
        assert_eq!(whole_object_checksum(full, None, &joined).unwrap(), Some(whole), "the store computes it");
        let wrong = Crc64Nvme(whole.0 ^ 1);
        assert_eq!(whole_object_checksum(full, Some(wrong), &joined).unwrap_err().code, "BadDigest");
        let swapped = [joined[1], joined[0]];
        assert_eq!(whole_object_checksum(full, Some(whole), &swapped).unwrap_err().code, "BadDigest");
        assert_eq!(whole_object_checksum(UploadChecksum::None, None, &joined).unwrap(), None);
        let refused = whole_object_checksum(UploadChecksum::None, Some(whole), &joined).unwrap_err();
        assert_eq!(refused.code, "InvalidRequest");
    }

    #[test]
    fn a_claimed_checksum_is_eight_bytes_of_base64_of_the_full_object_type() {
        assert_eq!(claimed_checksum(None, None).unwrap(), None);
        let crc = Crc64Nvme(0xae8b_1486_0a79_9888);
        assert_eq!(claimed_checksum(Some("rosUhgp5mIg="), Some("FULL_OBJECT")).unwrap(), Some(crc));
        assert_eq!(claimed_checksum(Some("rosUhgp5"), None).unwrap_err().code, "InvalidRequest");
        assert_eq!(claimed_checksum(Some("rosUhgp5mIg="), Some("COMPOSITE")).unwrap_err().code, "BadDigest");
    }

    fn requested(part: &StoredPart) -> RequestedPart {
        RequestedPart { number: part.number, etag: part.etag.clone() }
    }

    #[test]
    fn part_numbers_run_from_1_to_10000() {
        assert_eq!(part_number("1").unwrap(), 1);
        assert_eq!(part_number("10000").unwrap(), 10_000);
        for refused in ["0", "10001", "-1", "", "one", "1.0"] {
            assert_eq!(part_number(refused).unwrap_err().code, "InvalidArgument", "{refused}");
        }
    }

    #[test]
    fn upload_ids_sort_by_initiation_and_name_no_path() {
        let earlier = new_upload_id(1_767_225_600_000, [0xff; 8]);
        let later = new_upload_id(1_767_225_600_001, [0; 8]);
        assert!(is_upload_id(&earlier) && is_upload_id(&later));
        assert!(earlier < later);
        for refused in
            ["", "../../etc/passwd", "0123456789ABCDEF0123456789abcdef", "0123456789abcdef0123456789abcde"]
        {
            assert!(!is_upload_id(refused), "{refused}");
        }
    }

    #[test]
    fn parses_the_sdks_complete_document() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>&quot;a54357aff0632cce46d942af68356b38&quot;</ETag><PartNumber>1</PartNumber></Part><Part><ChecksumSHA256>abc=</ChecksumSHA256><ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag><PartNumber> 2 </PartNumber></Part></CompleteMultipartUpload>"#;
        assert_eq!(
            parse_complete(xml).unwrap(),
            [
                RequestedPart { number: 1, etag: "a54357aff0632cce46d942af68356b38".to_owned() },
                RequestedPart { number: 2, etag: "0c78aef83f66abc1fa1e8477f296d394".to_owned() },
            ]
        );
        for malformed in [
            "",
            "not xml",
            "<CompleteMultipartUpload></CompleteMultipartUpload>",
            "<Other><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Other>",
            "<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
        ] {
            assert_eq!(parse_complete(malformed).unwrap_err().code, "MalformedXML", "{malformed}");
        }
    }

    #[test]
    fn completes_like_s3() {
        let big = vec![1u8; 64];
        let parts = [stored(1, &big), stored(2, &big), stored(3, b"end"), stored(5, b"unused")];
        let all: Vec<RequestedPart> = parts[..3].iter().map(requested).collect();
        let (etag, joined) = complete(&all, &parts, 64).unwrap();
        let mut md5s = Vec::new();
        for part in &parts[..3] {
            md5s.extend(hex::decode(&part.etag).unwrap());
        }
        assert_eq!(etag, format!("{}-3", hex::encode(md5::Md5::digest(&md5s))));
        assert_eq!(joined.iter().map(|part| part.number).collect::<Vec<_>>(), [1, 2, 3]);
        // Parts may be skipped; the last one may be small; ETags may come quoted or in capitals.
        let mut some = vec![requested(&parts[0]), requested(&parts[2])];
        some[0].etag = some[0].etag.to_uppercase();
        assert_eq!(complete(&some, &parts, 64).unwrap().1.len(), 2);

        let reversed = vec![requested(&parts[1]), requested(&parts[0])];
        assert_eq!(complete(&reversed, &parts, 64).unwrap_err().code, "InvalidPartOrder");
        let repeated = vec![requested(&parts[0]), requested(&parts[0])];
        assert_eq!(complete(&repeated, &parts, 64).unwrap_err().code, "InvalidPartOrder");
        let missing = vec![requested(&parts[0]), RequestedPart { number: 4, etag: parts[0].etag.clone() }];
        assert_eq!(complete(&missing, &parts, 64).unwrap_err().code, "InvalidPart");
        let wrong_etag = vec![RequestedPart { number: 1, etag: parts[2].etag.clone() }];
        assert_eq!(complete(&wrong_etag, &parts, 64).unwrap_err().code, "InvalidPart");
        let small_inside = vec![requested(&parts[2]), requested(&parts[3])];
        assert_eq!(complete(&small_inside, &parts, 64).unwrap_err().code, "EntityTooSmall");
        assert_eq!(complete(&all, &parts, 65).unwrap_err().code, "EntityTooSmall");
        assert!(complete(&all[2..], &parts, MIN_PART_SIZE).is_ok(), "one small part is a whole upload");
    }

    #[test]
    fn the_multipart_etag_is_the_md5_of_the_part_md5s() {
        // Two parts whose MD5s are those of "hello" and "world".
        let etag = multipart_etag(
            ["5d41402abc4b2a76b9719d911017c592", "7d793037a0760186574b0282f2f435e7"].into_iter(),
        );
        let mut joined = hex::decode("5d41402abc4b2a76b9719d911017c592").unwrap();
        joined.extend(hex::decode("7d793037a0760186574b0282f2f435e7").unwrap());
        assert_eq!(etag.unwrap(), format!("{}-2", hex::encode(md5::Md5::digest(&joined))));
        assert_eq!(multipart_etag(["not hex"].into_iter()), None);
    }

    #[test]
    fn lists_parts_a_page_at_a_time() {
        let parts: Vec<StoredPart> = (1..=3).map(|n| stored(n, b"x")).collect();
        let first = list_parts("b", "k&1", "id", &parts, 0, 2);
        assert!(first.contains("<Key>k&amp;1</Key>"), "{first}");
        assert!(first.contains("<IsTruncated>true</IsTruncated>"), "{first}");
        assert!(first.contains("<NextPartNumberMarker>2</NextPartNumberMarker>"), "{first}");
        assert!(
            first.contains("<PartNumber>1</PartNumber>") && !first.contains("<PartNumber>3</PartNumber>")
        );
        assert!(
            first.contains("<ETag>&quot;9dd4e461268c8034f5c8564e155c67a6&quot;</ETag><Size>1</Size>"),
            "{first}"
        );
        let second = list_parts("b", "k", "id", &parts, 2, 2);
        assert!(second.contains("<IsTruncated>false</IsTruncated>"), "{second}");
        assert!(
            second.contains("<PartNumber>3</PartNumber>") && !second.contains("<PartNumber>2</PartNumber>")
        );
        assert_eq!(max_listed(None, "max-parts").unwrap(), 1000);
        assert_eq!(max_listed(Some("5000"), "max-parts").unwrap(), 1000);
        assert_eq!(max_listed(Some("-1"), "max-parts").unwrap_err().code, "InvalidArgument");
        assert_eq!(part_number_marker(Some("x")).unwrap_err().code, "InvalidArgument");
    }

    #[test]
    fn lists_uploads_by_key_and_initiation_under_a_prefix() {
        let upload = |key: &str, ms: i64| UploadSummary {
            key: key.to_owned(),
            upload_id: new_upload_id(ms, [0; 8]),
            initiated_ms: ms,
        };
        let uploads =
            vec![upload("b/2", 3), upload("a/1", 2), upload("b/1", 5), upload("b/1", 1), upload("c", 0)];
        let query = UploadsQuery { prefix: "b/".to_owned(), max_uploads: 2, ..UploadsQuery::default() };
        let first = list_uploads("bucket", uploads.clone(), &query);
        let keys = |xml: &str| -> Vec<String> {
            xml.split("<Upload><Key>")
                .skip(1)
                .map(|rest| rest.split('<').next().unwrap().to_owned())
                .collect()
        };
        assert_eq!(keys(&first), ["b/1", "b/1"]);
        let listed = first.split_once("<Upload>").unwrap().1;
        assert!(
            listed.find(&new_upload_id(1, [0; 8])).unwrap() < listed.find(&new_upload_id(5, [0; 8])).unwrap()
        );
        assert!(first.contains("<IsTruncated>true</IsTruncated>"), "{first}");
        assert!(
            first.contains(&format!("<NextUploadIdMarker>{}</NextUploadIdMarker>", new_upload_id(5, [0; 8])))
        );
        let next = UploadsQuery {
            key_marker: Some("b/1".to_owned()),
            upload_id_marker: Some(new_upload_id(1, [0; 8])),
            ..query.clone()
        };
        assert_eq!(keys(&list_uploads("bucket", uploads.clone(), &next)), ["b/1", "b/2"]);
        let after_key = UploadsQuery { key_marker: Some("b/1".to_owned()), ..query.clone() };
        assert_eq!(keys(&list_uploads("bucket", uploads.clone(), &after_key)), ["b/2"]);
        assert!(first.contains("<Initiated>1970-01-01T00:00:00.001Z</Initiated>"), "{first}");
        let encoded = UploadsQuery { prefix: String::new(), max_uploads: 10, url_encoded: true, ..query };
        let spaced = vec![upload("a b/ü", 1)];
        assert_eq!(keys(&list_uploads("bucket", spaced, &encoded)), ["a%20b/%C3%BC"]);
    }

    #[test]
    fn answers_are_s3_xml() {
        let initiated = initiate_result("bucket", "a<b", "0123");
        assert!(initiated
            .contains("<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
        assert!(initiated.contains("<Key>a&lt;b</Key><UploadId>0123</UploadId>"), "{initiated}");
        let completed = complete_result("http://x/bucket/k", "bucket", "k", "abc-2", None);
        assert!(completed.contains("<ETag>&quot;abc-2&quot;</ETag>"), "{completed}");
        assert!(!completed.contains("Checksum"), "{completed}");
        let crc = Some(Crc64Nvme(0xae8b_1486_0a79_9888));
        let completed = complete_result("http://x/bucket/k", "bucket", "k", "abc-2", crc);
        let checksum =
            "<ChecksumCRC64NVME>rosUhgp5mIg=</ChecksumCRC64NVME><ChecksumType>FULL_OBJECT</ChecksumType>";
        assert!(completed.contains(checksum), "{completed}");
        assert_eq!(timestamp(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
    }
}
