//! The checksum every upload carries, which the store verifies before it keeps the bytes
//! (`S3FILE_CHECKSUM`; PROTOCOL.md, "Upload"). The browser computes it once it has the
//! signer's answer, so the signer only says which one and lets the policy allow its field.

use serde::Serialize;

use crate::multipart_ticket::WholeChecksum;

/// Which checksum uploads carry. On the wire (the sign answer's `checksum`): `md5`, `crc32`,
/// `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadChecksum {
    /// `Content-MD5` everywhere: a PUT's or a part's header, a POST's form field, as AWS
    /// documents for PutObject, UploadPart and POST Object.
    Md5,
    /// A POST carries `x-amz-checksum-crc32`, for stores that ignore a POST's `Content-MD5`
    /// (SeaweedFS); PUTs and parts still carry `Content-MD5`, since a presigned URL lets through
    /// no `x-amz-*` header it did not sign, and the checksum is known only after signing.
    Crc32,
    /// None: a store that checks nothing, or a browser whose bytes are trusted to arrive intact.
    Off,
}

impl UploadChecksum {
    /// What `auto` chooses for the store at `endpoint_url` (`None`: AWS itself): the checksum the
    /// store is known to verify. AWS verifies `Content-MD5` on every upload; of the other stores,
    /// those we know (SeaweedFS, the dev store aside) verify an `x-amz-checksum-*` POST field and
    /// ignore (SeaweedFS: refuse a policy on) a POST's `Content-MD5`.
    pub fn auto(endpoint_url: Option<&str>) -> UploadChecksum {
        match endpoint_url {
            None => UploadChecksum::Md5,
            Some(url) if is_aws(url) => UploadChecksum::Md5,
            Some(_) => UploadChecksum::Crc32,
        }
    }

    /// Whether a new multipart upload gets a whole-object checksum (`whole_checksum.rs`): when
    /// uploads carry checksums at all, the parts' MD5s come with their CRC-64/NVME.
    pub fn whole_checksum(self) -> WholeChecksum {
        match self {
            UploadChecksum::Md5 | UploadChecksum::Crc32 => WholeChecksum::Crc64Nvme,
            UploadChecksum::Off => WholeChecksum::None,
        }
    }

    /// The form field a POST carries the checksum in, which its policy must allow.
    pub fn post_field(self) -> Option<&'static str> {
        match self {
            UploadChecksum::Md5 => Some("Content-MD5"),
            UploadChecksum::Crc32 => Some("x-amz-checksum-crc32"),
            UploadChecksum::Off => None,
        }
    }
}

/// Whether `url` is an AWS S3 endpoint: its host under `amazonaws.com` (or `amazonaws.com.cn`).
fn is_aws(url: &str) -> bool {
    let Some(host) = url.parse::<http::Uri>().ok().and_then(|uri| uri.host().map(str::to_ascii_lowercase))
    else {
        return false;
    };
    let host = host.trim_end_matches('.');
    [".amazonaws.com", ".amazonaws.com.cn"].iter().any(|suffix| host.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_chooses_md5_for_aws_and_crc32_for_other_stores() {
        let cases = [
            (None, UploadChecksum::Md5),
            (Some("https://s3.eu-west-1.amazonaws.com"), UploadChecksum::Md5),
            (Some("https://bucket.s3.dualstack.us-east-1.amazonaws.com/"), UploadChecksum::Md5),
            (Some("https://s3.cn-north-1.amazonaws.com.cn"), UploadChecksum::Md5),
            (Some("https://S3.AMAZONAWS.COM:443"), UploadChecksum::Md5),
            (Some("http://127.0.0.1:8333"), UploadChecksum::Crc32),
            (Some("https://minio.example.com"), UploadChecksum::Crc32),
            // Look-alikes are not AWS.
            (Some("https://amazonaws.com.example.net"), UploadChecksum::Crc32),
            (Some("https://evil-amazonaws.com"), UploadChecksum::Crc32),
            (Some("https://s3.amazonaws.com@store.example.net"), UploadChecksum::Crc32),
            (Some("https://store.example.net/?s3.amazonaws.com"), UploadChecksum::Crc32),
        ];
        for (endpoint, expected) in cases {
            assert_eq!(UploadChecksum::auto(endpoint), expected, "{endpoint:?}");
        }
    }

    #[test]
    fn each_checksum_names_its_post_field_and_wire_value() {
        let cases = [
            (UploadChecksum::Md5, Some("Content-MD5"), "\"md5\""),
            (UploadChecksum::Crc32, Some("x-amz-checksum-crc32"), "\"crc32\""),
            (UploadChecksum::Off, None, "\"off\""),
        ];
        for (checksum, field, wire) in cases {
            assert_eq!(checksum.post_field(), field);
            assert_eq!(serde_json::to_string(&checksum).unwrap(), wire);
        }
        assert_eq!(UploadChecksum::Md5.whole_checksum(), WholeChecksum::Crc64Nvme);
        assert_eq!(UploadChecksum::Crc32.whole_checksum(), WholeChecksum::Crc64Nvme);
        assert_eq!(UploadChecksum::Off.whole_checksum(), WholeChecksum::None);
    }
}
