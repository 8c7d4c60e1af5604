//! The whole-object checksum of a multipart upload: its CRC-64/NVME, which the store checks at
//! CompleteMultipartUpload (PROTOCOL.md, "Multipart endpoints").
//!
//! The browser hashes each part as it sends it; the signer joins the parts' CRCs into the
//! file's, since CRCs join without the bytes (the CRC of `a ‖ b` follows from the CRCs of `a`
//! and `b` and the length of `b`); the store, which computed each part's CRC from the bytes it
//! received, compares. S3 writes a CRC big-endian, in base64.

use base64::Engine;
use crc_fast::CrcAlgorithm;

/// A CRC-64/NVME, as S3's `x-amz-checksum-crc64nvme` carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crc64Nvme(pub u64);

impl Crc64Nvme {
    /// The CRC of `bytes`.
    pub fn of(bytes: &[u8]) -> Crc64Nvme {
        Crc64Nvme(crc_fast::checksum(CrcAlgorithm::Crc64Nvme, bytes))
    }

    /// Reads S3's form: 8 bytes in base64. `None` for anything else.
    pub fn from_base64(text: &str) -> Option<Crc64Nvme> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
        Some(Crc64Nvme(u64::from_be_bytes(bytes.try_into().ok()?)))
    }

    pub fn to_base64(self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0.to_be_bytes())
    }

    /// The CRC of the pieces one after the other, from each piece's CRC and length.
    pub fn join(pieces: impl IntoIterator<Item = (Crc64Nvme, u64)>) -> Crc64Nvme {
        let mut pieces = pieces.into_iter();
        let Some((first, _)) = pieces.next() else { return Crc64Nvme::of(&[]) };
        let joined = pieces.fold(first.0, |crc, (next, length)| {
            crc_fast::checksum_combine(CrcAlgorithm::Crc64Nvme, crc, next.0, length)
        });
        Crc64Nvme(joined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An implementation of the same CRC from another crate, to check this one against.
    fn reference(bytes: &[u8]) -> u64 {
        crc::Crc::<u64>::new(&crc::CRC_64_NVME).checksum(bytes)
    }

    #[test]
    fn the_catalogue_check_value_and_s3_s_form() {
        // The CRC catalogue's check value: the CRC of "123456789".
        assert_eq!(Crc64Nvme::of(b"123456789"), Crc64Nvme(0xae8b_1486_0a79_9888));
        assert_eq!(reference(b"123456789"), 0xae8b_1486_0a79_9888);
        let crc = Crc64Nvme(0xae8b_1486_0a79_9888);
        assert_eq!(crc.to_base64(), "rosUhgp5mIg=");
        assert_eq!(Crc64Nvme::from_base64("rosUhgp5mIg="), Some(crc));
    }

    #[test]
    fn only_eight_bytes_of_base64_read_as_a_crc() {
        for refused in ["", "rosUhgp5mA==", "rosUhgp5mIgA", "rosUhgp5mIgAAA==", "not base64!", "rosUhgp5mIg"]
        {
            assert_eq!(Crc64Nvme::from_base64(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn joined_parts_give_the_crc_of_the_whole() {
        let whole: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        for part_size in [1, 7, 4096, 33_333, 100_000] {
            let parts = whole.chunks(part_size).map(|part| (Crc64Nvme::of(part), part.len() as u64));
            assert_eq!(Crc64Nvme::join(parts), Crc64Nvme(reference(&whole)), "parts of {part_size}");
        }
        assert_eq!(Crc64Nvme::join([]), Crc64Nvme(reference(b"")));
    }

    #[test]
    fn a_changed_byte_or_a_swapped_pair_of_parts_changes_the_whole() {
        let (a, b) = (b"first part".as_slice(), b"second part".as_slice());
        let pieces = |parts: [&[u8]; 2]| parts.map(|part| (Crc64Nvme::of(part), part.len() as u64));
        let whole = Crc64Nvme::join(pieces([a, b]));
        assert_ne!(Crc64Nvme::join(pieces([b, a])), whole);
        assert_ne!(Crc64Nvme::join(pieces([a, b"second parT"])), whole);
    }
}
