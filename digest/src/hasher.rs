//! One running checksum, fed a piece at a time.

use crc::{Crc, Table, CRC_32_ISO_HDLC, CRC_64_NVME};
use md5::{Digest as _, Md5};

/// CRC-32 as zlib, gzip and S3's `x-amz-checksum-crc32` compute it, with slice-by-16 tables:
/// several times as fast as one table.
pub type Crc32 = Crc<u32, Table<16>>;

/// CRC-64/NVME as S3's `x-amz-checksum-crc64nvme` computes it, with slice-by-16 tables.
pub type Crc64Nvme = Crc<u64, Table<16>>;

/// The CRC tables, built at run time, once (see `exports`), not as `static`s: 48 KiB of tables
/// that hardly compress would several times over the wasm a page fetches.
pub struct Tables {
    crc32: Crc32,
    crc64nvme: Crc64Nvme,
}

impl Tables {
    pub fn new() -> Tables {
        Tables { crc32: Crc32::new(&CRC_32_ISO_HDLC), crc64nvme: Crc64Nvme::new(&CRC_64_NVME) }
    }
}

impl Default for Tables {
    fn default() -> Tables {
        Tables::new()
    }
}

/// Which checksum to compute. The codes are the wasm interface's (`widget/js/digest.js`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// RFC 1321, for `Content-MD5`.
    Md5,
    /// For `x-amz-checksum-crc32`.
    Crc32,
    /// A part of a multipart upload: its MD5 for `Content-MD5`, and its CRC-64/NVME, which the
    /// signer joins with the other parts' into the file's (the upload's whole-object checksum),
    /// in one pass over the bytes.
    Md5AndCrc64Nvme,
}

impl Algorithm {
    /// The algorithm of a code from JS; `None` for a code this build does not know.
    pub fn from_code(code: u32) -> Option<Algorithm> {
        match code {
            0 => Some(Algorithm::Md5),
            1 => Some(Algorithm::Crc32),
            2 => Some(Algorithm::Md5AndCrc64Nvme),
            _ => None,
        }
    }
}

/// A checksum being computed.
pub enum Hasher {
    Md5(Md5),
    Crc32(crc::Digest<'static, u32, Table<16>>),
    Md5AndCrc64Nvme(Md5, crc::Digest<'static, u64, Table<16>>),
}

/// The longest digest: MD5's 16 bytes and a CRC-64's 8.
pub const MAX_DIGEST: usize = 24;

impl Hasher {
    /// A checksum with `algorithm`; a CRC computes with `tables`.
    pub fn new(algorithm: Algorithm, tables: &'static Tables) -> Hasher {
        match algorithm {
            Algorithm::Md5 => Hasher::Md5(Md5::new()),
            Algorithm::Crc32 => Hasher::Crc32(tables.crc32.digest()),
            Algorithm::Md5AndCrc64Nvme => Hasher::Md5AndCrc64Nvme(Md5::new(), tables.crc64nvme.digest()),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Md5(md5) => md5.update(bytes),
            Hasher::Crc32(crc) => crc.update(bytes),
            Hasher::Md5AndCrc64Nvme(md5, crc) => {
                md5.update(bytes);
                crc.update(bytes);
            }
        }
    }

    /// Writes the digest into `out` as S3 reads it (a CRC big-endian; MD5 then CRC-64 for
    /// both) and answers its length.
    pub fn finish(self, out: &mut [u8; MAX_DIGEST]) -> usize {
        match self {
            Hasher::Md5(md5) => {
                out[..16].copy_from_slice(&md5.finalize());
                16
            }
            Hasher::Crc32(crc) => {
                out[..4].copy_from_slice(&crc.finalize().to_be_bytes());
                4
            }
            Hasher::Md5AndCrc64Nvme(md5, crc) => {
                out[..16].copy_from_slice(&md5.finalize());
                out[16..].copy_from_slice(&crc.finalize().to_be_bytes());
                24
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;

    static TABLES: LazyLock<Tables> = LazyLock::new(Tables::new);

    fn digest(algorithm: Algorithm, pieces: &[&[u8]]) -> Vec<u8> {
        let mut hasher = Hasher::new(algorithm, &TABLES);
        for piece in pieces {
            hasher.update(piece);
        }
        let mut out = [0; MAX_DIGEST];
        let length = hasher.finish(&mut out);
        out[..length].to_vec()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    #[test]
    fn published_check_values() {
        // RFC 1321's test suite, and the CRC catalogue's check value (the CRC of "123456789").
        let cases: [(Algorithm, &[u8], &str); 7] = [
            (Algorithm::Md5, b"", "d41d8cd98f00b204e9800998ecf8427e"),
            (Algorithm::Md5, b"abc", "900150983cd24fb0d6963f7d28e17f72"),
            (Algorithm::Md5, b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (Algorithm::Crc32, b"123456789", "cbf43926"),
            (Algorithm::Crc32, b"", "00000000"),
            // MD5, then CRC-64/NVME (the catalogue's check value for "123456789").
            (Algorithm::Md5AndCrc64Nvme, b"123456789", "25f9e794323b453885f5181f1b624d0bae8b14860a799888"),
            (Algorithm::Md5AndCrc64Nvme, b"", "d41d8cd98f00b204e9800998ecf8427e0000000000000000"),
        ];
        for (algorithm, input, expected) in cases {
            assert_eq!(hex(&digest(algorithm, &[input])), expected, "{algorithm:?} of {input:?}");
        }
    }

    #[test]
    fn pieces_of_any_size_give_the_digest_of_the_whole() {
        let whole: Vec<u8> = (0..10_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        for algorithm in [Algorithm::Md5, Algorithm::Crc32, Algorithm::Md5AndCrc64Nvme] {
            let expected = digest(algorithm, &[&whole]);
            for size in [1, 63, 64, 65, 4096] {
                let pieces: Vec<&[u8]> = whole.chunks(size).collect();
                assert_eq!(digest(algorithm, &pieces), expected, "{algorithm:?} in pieces of {size}");
            }
        }
    }

    #[test]
    fn codes_name_the_algorithms() {
        assert_eq!(Algorithm::from_code(0), Some(Algorithm::Md5));
        assert_eq!(Algorithm::from_code(1), Some(Algorithm::Crc32));
        assert_eq!(Algorithm::from_code(2), Some(Algorithm::Md5AndCrc64Nvme));
        assert_eq!(Algorithm::from_code(3), None);
    }
}
