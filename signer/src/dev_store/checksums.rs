//! The digests a request body must match, as S3 checks them: `Content-MD5`, one
//! `x-amz-checksum-<algorithm>` (CRC32, CRC32C, CRC64NVME, SHA-1 or SHA-256), and the
//! `x-amz-content-sha256` a header signature covers.
//!
//! Sans-IO: the shell feeds the body's chunks to a [`BodyDigest`] as it streams them to disk,
//! then asks [`Expected::check`] about the result before keeping the file.

use aws_smithy_checksums::ChecksumAlgorithm;
use base64::Engine;
use http::{HeaderMap, StatusCode};
use md5::Digest as _;
use sha2::Digest as _;

use crate::whole_checksum::Crc64Nvme;

/// An S3 error about a body's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

fn error(status: StatusCode, code: &'static str, message: impl Into<String>) -> DigestError {
    DigestError { status, code, message: message.into() }
}

/// The `x-amz-checksum-*` headers that carry a checksum of the body.
const CHECKSUMS: [(&str, ChecksumAlgorithm, &str); 5] = [
    ("x-amz-checksum-crc32", ChecksumAlgorithm::Crc32, "CRC32"),
    ("x-amz-checksum-crc32c", ChecksumAlgorithm::Crc32c, "CRC32C"),
    ("x-amz-checksum-crc64nvme", ChecksumAlgorithm::Crc64Nvme, "CRC64NVME"),
    ("x-amz-checksum-sha1", ChecksumAlgorithm::Sha1, "SHA1"),
    ("x-amz-checksum-sha256", ChecksumAlgorithm::Sha256, "SHA256"),
];

/// A checksum the client sent in an `x-amz-checksum-*` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// The header it came in, to echo in the response as S3 does.
    pub header: &'static str,
    algorithm: ChecksumAlgorithm,
    name: &'static str,
    /// As sent: base64.
    pub value: String,
    decoded: Vec<u8>,
}

/// What the request says its body is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    md5: Option<[u8; 16]>,
    pub checksum: Option<Checksum>,
    /// `x-amz-content-sha256`, unless the payload is unsigned.
    content_sha256: Option<[u8; 32]>,
}

impl Expected {
    /// Reads the digest headers; malformed ones are refused as S3 refuses them.
    pub fn from_headers(headers: &HeaderMap) -> Result<Expected, DigestError> {
        let header = |name: &str| headers.get(name).map(|value| value.to_str().unwrap_or_default());
        let base64 = base64::engine::general_purpose::STANDARD;
        let md5 = match header("content-md5") {
            None => None,
            Some(value) => Some(
                base64
                    .decode(value.trim())
                    .ok()
                    .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
                    .ok_or_else(|| {
                        error(
                            StatusCode::BAD_REQUEST,
                            "InvalidDigest",
                            "The Content-MD5 you specified was invalid.",
                        )
                    })?,
            ),
        };
        let mut checksum = None;
        for (name, algorithm, display) in CHECKSUMS {
            let Some(value) = header(name) else { continue };
            if checksum.is_some() {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequest",
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                ));
            }
            let size = aws_smithy_checksums::Checksum::size(algorithm.into_impl().as_ref());
            let decoded =
                base64.decode(value.trim()).ok().filter(|bytes| bytes.len() as u64 == size).ok_or_else(
                    || {
                        error(
                            StatusCode::BAD_REQUEST,
                            "InvalidRequest",
                            format!("Value for {name} header is invalid."),
                        )
                    },
                )?;
            checksum = Some(Checksum {
                header: name,
                algorithm,
                name: display,
                value: value.trim().to_owned(),
                decoded,
            });
        }
        let content_sha256 = match header("x-amz-content-sha256") {
            None | Some("UNSIGNED-PAYLOAD") => None,
            Some(value) if value.starts_with("STREAMING-") => {
                return Err(error(
                    StatusCode::NOT_IMPLEMENTED,
                    "NotImplemented",
                    "The dev store does not take aws-chunked bodies: send the payload as it is.",
                ))
            }
            Some(value) => {
                Some(hex::decode(value).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok()).ok_or_else(
                    || {
                        error(
                            StatusCode::BAD_REQUEST,
                            "InvalidArgument",
                            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.",
                        )
                    },
                )?)
            }
        };
        Ok(Expected { md5, checksum, content_sha256 })
    }

    /// A digest of the body that computes what [`Expected::check`] needs.
    pub fn digest(&self) -> BodyDigest {
        BodyDigest {
            md5: md5::Md5::new(),
            sha256: sha2::Sha256::new(),
            checksum: self.checksum.as_ref().map(|checksum| checksum.algorithm.into_impl()),
            crc64nvme: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme),
            size: 0,
        }
    }

    /// Compares the body received with what the request said, in S3's order.
    pub fn check(&self, body: &Digests) -> Result<(), DigestError> {
        if self.content_sha256.is_some_and(|claimed| claimed != body.sha256) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ));
        }
        if self.md5.is_some_and(|claimed| claimed != body.md5) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
        if let Some(checksum) = &self.checksum {
            if body.checksum.as_deref() != Some(checksum.decoded.as_slice()) {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "BadDigest",
                    format!("The {} you specified did not match the calculated checksum.", checksum.name),
                ));
            }
        }
        Ok(())
    }
}

/// The running digests of a body.
pub struct BodyDigest {
    md5: md5::Md5,
    sha256: sha2::Sha256,
    checksum: Option<Box<dyn aws_smithy_checksums::http::HttpChecksum>>,
    /// Always: a part's, which completion joins into an object's whole-object checksum.
    crc64nvme: crc_fast::Digest,
    size: u64,
}

impl BodyDigest {
    pub fn update(&mut self, chunk: &[u8]) {
        self.md5.update(chunk);
        self.sha256.update(chunk);
        if let Some(checksum) = &mut self.checksum {
            checksum.update(chunk);
        }
        self.crc64nvme.update(chunk);
        self.size += chunk.len() as u64;
    }

    pub fn finish(self) -> Digests {
        Digests {
            size: self.size,
            md5: self.md5.finalize().into(),
            sha256: self.sha256.finalize().into(),
            checksum: self.checksum.map(|checksum| checksum.finalize().to_vec()),
            crc64nvme: Crc64Nvme(self.crc64nvme.finalize()),
        }
    }
}

/// What a body turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub size: u64,
    pub md5: [u8; 16],
    pub sha256: [u8; 32],
    checksum: Option<Vec<u8>>,
    pub crc64nvme: Crc64Nvme,
}

impl Digests {
    /// The ETag S3 gives a single-part object or a part: the hex MD5 (unquoted).
    pub fn etag(&self) -> String {
        hex::encode(self.md5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const HELLO_MD5: &str = "XUFAKrxLKna5cZ2REBfFkg==";
    const HELLO_SHA256: &str = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";
    const HELLO_SHA256_HEX: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                )
            })
            .collect()
    }

    fn check(pairs: &[(&str, &str)], body: &[u8]) -> Result<Digests, DigestError> {
        let expected = Expected::from_headers(&headers(pairs))?;
        let mut digest = expected.digest();
        for chunk in body.chunks(2) {
            digest.update(chunk);
        }
        let digests = digest.finish();
        expected.check(&digests).map(|()| digests)
    }

    #[test]
    fn a_body_without_digest_headers_passes_and_gets_its_md5_as_etag() {
        let digests = check(&[], b"hello").unwrap();
        assert_eq!(digests.etag(), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(digests.size, 5);
        assert_eq!(hex::encode(digests.sha256), HELLO_SHA256_HEX);
    }

    #[test]
    fn content_md5_must_match() {
        assert!(check(&[("content-md5", HELLO_MD5)], b"hello").is_ok());
        let wrong = check(&[("content-md5", HELLO_MD5)], b"hellO").unwrap_err();
        assert_eq!((wrong.status, wrong.code), (StatusCode::BAD_REQUEST, "BadDigest"));
        for malformed in ["not base64!", "aGVsbG8=", ""] {
            let refused = check(&[("content-md5", malformed)], b"hello").unwrap_err();
            assert_eq!(refused.code, "InvalidDigest", "{malformed}");
        }
    }

    #[test]
    fn one_amz_checksum_must_match() {
        assert!(check(&[("x-amz-checksum-sha256", HELLO_SHA256)], b"hello").is_ok());
        let wrong = check(&[("x-amz-checksum-sha256", HELLO_SHA256)], b"hellO").unwrap_err();
        assert_eq!(
            (wrong.code, wrong.message.as_str()),
            ("BadDigest", "The SHA256 you specified did not match the calculated checksum.")
        );
        let malformed = check(&[("x-amz-checksum-sha256", HELLO_MD5)], b"hello").unwrap_err();
        assert_eq!(malformed.code, "InvalidRequest");
        let two =
            check(&[("x-amz-checksum-sha256", HELLO_SHA256), ("x-amz-checksum-crc32", "AAAAAA==")], b"hello");
        assert_eq!(two.unwrap_err().code, "InvalidRequest");
        // Known values of "hello": CRC32 0x3610a686, CRC32C 0x9a71bb4c, SHA-1 aaf4c61d….
        let base64 = base64::engine::general_purpose::STANDARD;
        for (header, value) in [
            ("x-amz-checksum-crc32", base64.encode(0x3610_a686u32.to_be_bytes())),
            ("x-amz-checksum-crc32c", base64.encode(0x9a71_bb4cu32.to_be_bytes())),
            (
                "x-amz-checksum-sha1",
                base64.encode(hex::decode("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d").unwrap()),
            ),
        ] {
            assert!(check(&[(header, &value)], b"hello").is_ok(), "{header}");
            assert_eq!(check(&[(header, &value)], b"hellO").unwrap_err().code, "BadDigest", "{header}");
        }
        // Not checksums of the body.
        assert!(check(&[("x-amz-checksum-algorithm", "SHA256"), ("x-amz-checksum-type", "COMPOSITE")], b"x")
            .is_ok());
    }

    #[test]
    fn a_signed_payload_hash_must_match() {
        assert!(check(&[("x-amz-content-sha256", HELLO_SHA256_HEX)], b"hello").is_ok());
        assert!(check(&[("x-amz-content-sha256", "UNSIGNED-PAYLOAD")], b"hello").is_ok());
        let wrong = check(&[("x-amz-content-sha256", HELLO_SHA256_HEX)], b"hellO").unwrap_err();
        assert_eq!(wrong.code, "XAmzContentSHA256Mismatch");
        assert_eq!(check(&[("x-amz-content-sha256", "abc")], b"hello").unwrap_err().code, "InvalidArgument");
        let chunked = check(&[("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")], b"hello");
        assert_eq!(chunked.unwrap_err().code, "NotImplemented");
    }
}
