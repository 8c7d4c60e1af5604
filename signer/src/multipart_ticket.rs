//! The ticket that lets a browser carry on one multipart upload the signer started.
//!
//! The signer is stateless, so what it decided at sign time (this key, this upload id, this
//! file size and part size, whether the store keeps the upload's whole-object checksum)
//! travels with the browser, signed: `<size>.<part size>.<token>`, or
//! `<size>.<part size>.crc64nvme.<token>` for an upload created with its CRC-64/NVME, where the
//! token is a folder signature (see `folder_token`) over the key with the rest in place of the
//! field name. Real field names never contain NUL, so a ticket can never pass
//! for a folder signature, nor the reverse. Part URLs, completion and abort all require it.

use time::OffsetDateTime;

use crate::folder_token::{FolderSigner, TokenError};
use crate::part_plan::PartPlan;

/// What a valid ticket vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub key: String,
    pub upload_id: String,
    pub plan: PartPlan,
    pub whole_checksum: WholeChecksum,
}

/// Whether the upload was created with a whole-object checksum, which completing it then
/// passes on for the store to check (`whole_checksum.rs`). An upload created without one
/// (checksums off, or one resumed from before they existed) takes none at completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WholeChecksum {
    Crc64Nvme,
    None,
}

/// The mark, in the ticket's text and in what its token signs, of an upload created with its
/// CRC-64/NVME.
const CRC64NVME: &str = "crc64nvme";

impl WholeChecksum {
    /// The piece the ticket adds after `separator`, if any.
    fn mark(self, separator: char) -> String {
        match self {
            WholeChecksum::Crc64Nvme => format!("{separator}{CRC64NVME}"),
            WholeChecksum::None => String::new(),
        }
    }
}

fn bound_field(upload_id: &str, plan: &PartPlan, whole_checksum: WholeChecksum) -> String {
    let mark = whole_checksum.mark('\0');
    format!("\0multipart\0{upload_id}\0{}\0{}{mark}", plan.size, plan.part_size)
}

/// Issues a ticket valid until `expires_at`.
pub fn issue(signer: &FolderSigner, ticket: &Ticket, expires_at: OffsetDateTime) -> String {
    let bound = bound_field(&ticket.upload_id, &ticket.plan, ticket.whole_checksum);
    let token = signer.sign(&bound, &ticket.key, expires_at);
    let mark = ticket.whole_checksum.mark('.');
    format!("{}.{}{mark}.{token}", ticket.plan.size, ticket.plan.part_size)
}

/// Checks a ticket presented with `key` and `upload_id`, and returns what it vouches for.
pub fn verify(
    signer: &FolderSigner,
    text: &str,
    key: &str,
    upload_id: &str,
    now: OffsetDateTime,
) -> Result<Ticket, TokenError> {
    let mut pieces = text.splitn(3, '.');
    let (Some(size), Some(part_size), Some(rest)) = (pieces.next(), pieces.next(), pieces.next()) else {
        return Err(TokenError::Malformed);
    };
    // A folder token starts with its expiry's digits, never with the mark.
    let (whole_checksum, token) = match rest.split_once('.') {
        Some((CRC64NVME, token)) => (WholeChecksum::Crc64Nvme, token),
        _ => (WholeChecksum::None, rest),
    };
    let number = |text: &str| {
        let canonical = !text.is_empty() && (text == "0" || !text.starts_with('0'));
        if canonical && text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse::<u64>().map_err(|_| TokenError::Malformed)
        } else {
            Err(TokenError::Malformed)
        }
    };
    if upload_id.is_empty() || upload_id.len() > 1024 || upload_id.chars().any(char::is_control) {
        return Err(TokenError::Malformed);
    }
    let plan = PartPlan { size: number(size)?, part_size: number(part_size)? };
    if plan.part_size == 0 {
        return Err(TokenError::Malformed);
    }
    signer.verify(token, &bound_field(upload_id, &plan, whole_checksum), key, now)?;
    Ok(Ticket { key: key.to_owned(), upload_id: upload_id.to_owned(), plan, whole_checksum })
}

/// Like [`verify`], but an expired ticket passes too: for abort, which only ever removes the
/// upload the ticket names, and should work however late the browser gives up.
pub fn verify_any_age(
    signer: &FolderSigner,
    text: &str,
    key: &str,
    upload_id: &str,
) -> Result<Ticket, TokenError> {
    let expires = text
        .rsplit_once('.')
        .and_then(|(head, _)| head.rsplit('.').next())
        .and_then(|seconds| seconds.parse::<i64>().ok())
        .ok_or(TokenError::Malformed)?;
    let just_before = OffsetDateTime::from_unix_timestamp(expires - 1).map_err(|_| TokenError::Malformed)?;
    verify(signer, text, key, upload_id, just_before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);
    const LATER: OffsetDateTime = datetime!(2026-11-22 11:00 UTC);

    fn ticket() -> Ticket {
        Ticket {
            key: "tmp/s3file/abc/film.mp4".into(),
            upload_id: "upload-1".into(),
            plan: PartPlan { size: 20 << 20, part_size: 8 << 20 },
            whole_checksum: WholeChecksum::None,
        }
    }

    #[test]
    fn a_ticket_vouches_for_its_key_upload_and_plan() {
        let signer = FolderSigner::new(&[b"secret"]);
        let text = issue(&signer, &ticket(), LATER);
        assert_eq!(verify(&signer, &text, "tmp/s3file/abc/film.mp4", "upload-1", NOW), Ok(ticket()));
        assert_eq!(
            verify(&signer, &text, "tmp/s3file/abc/film.mp4", "upload-1", LATER),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(&signer, &text, "tmp/s3file/abc/other.mp4", "upload-1", NOW),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(&signer, &text, "tmp/s3file/abc/film.mp4", "upload-2", NOW),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(&FolderSigner::new(&[b"other"]), &text, "tmp/s3file/abc/film.mp4", "upload-1", NOW),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn abort_takes_an_expired_ticket_but_not_a_forged_one() {
        let signer = FolderSigner::new(&[b"secret"]);
        let text = issue(&signer, &ticket(), NOW);
        assert_eq!(
            verify(&signer, &text, "tmp/s3file/abc/film.mp4", "upload-1", LATER),
            Err(TokenError::Expired)
        );
        assert_eq!(verify_any_age(&signer, &text, "tmp/s3file/abc/film.mp4", "upload-1"), Ok(ticket()));
        assert_eq!(
            verify_any_age(&signer, &text, "tmp/s3file/abc/film.mp4", "upload-2"),
            Err(TokenError::BadSignature)
        );
        assert_eq!(verify_any_age(&signer, "garbage", "k", "upload-1"), Err(TokenError::Malformed));
    }

    #[test]
    fn the_plan_cannot_be_changed() {
        let signer = FolderSigner::new(&[b"secret"]);
        let text = issue(&signer, &ticket(), LATER);
        let (_, token) = text.split_once('.').unwrap();
        let bigger = format!("{}.{token}", 40 << 20);
        assert_eq!(
            verify(&signer, &bigger, "tmp/s3file/abc/film.mp4", "upload-1", NOW),
            Err(TokenError::BadSignature)
        );
        let padded = format!("0{text}");
        assert_eq!(
            verify(&signer, &padded, "tmp/s3file/abc/film.mp4", "upload-1", NOW),
            Err(TokenError::Malformed)
        );
        assert_eq!(verify(&signer, "1.0.x", "k", "upload-1", NOW), Err(TokenError::Malformed));
        assert_eq!(
            verify(&signer, &text, "tmp/s3file/abc/film.mp4", "up\nload", NOW),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn a_ticket_vouches_for_the_whole_checksum_and_it_cannot_be_added_or_dropped() {
        let signer = FolderSigner::new(&[b"secret"]);
        let key = "tmp/s3file/abc/film.mp4";
        let with = Ticket { whole_checksum: WholeChecksum::Crc64Nvme, ..ticket() };
        let text = issue(&signer, &with, LATER);
        assert!(text.contains(".crc64nvme."), "{text}");
        assert_eq!(verify(&signer, &text, key, "upload-1", NOW), Ok(with.clone()));
        assert_eq!(verify_any_age(&signer, &text, key, "upload-1"), Ok(with));
        let dropped = text.replacen(".crc64nvme", "", 1);
        assert_eq!(verify(&signer, &dropped, key, "upload-1", NOW), Err(TokenError::BadSignature));
        let without = issue(&signer, &ticket(), LATER);
        let (plan, token) = without
            .rsplit_once('.')
            .and_then(|(head, signature)| {
                let (plan, expires) = head.rsplit_once('.')?;
                Some((plan.to_owned(), format!("{expires}.{signature}")))
            })
            .unwrap();
        let added = format!("{plan}.crc64nvme.{token}");
        assert_eq!(verify(&signer, &added, key, "upload-1", NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_folder_signature_is_not_a_ticket() {
        let signer = FolderSigner::new(&[b"secret"]);
        let folder_token = signer.sign("file", "tmp/s3file/abc/film.mp4", LATER);
        let forged = format!("{}.{}.{folder_token}", 20 << 20, 8 << 20);
        assert_eq!(
            verify(&signer, &forged, "tmp/s3file/abc/film.mp4", "upload-1", NOW),
            Err(TokenError::BadSignature)
        );
    }
}
