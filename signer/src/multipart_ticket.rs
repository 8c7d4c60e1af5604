//! The ticket that lets a browser carry on one multipart upload the signer started.
//!
//! The signer is stateless, so what it decided at sign time (this key, this upload id, this
//! file size and part size) travels with the browser, signed: `<size>.<part size>.<token>`,
//! where the token is a folder signature (see `folder_token`) over the key with the rest in
//! place of the field name. Real field names never contain NUL, so a ticket can never pass
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
}

fn bound_field(upload_id: &str, plan: &PartPlan) -> String {
    format!("\0multipart\0{upload_id}\0{}\0{}", plan.size, plan.part_size)
}

/// Issues a ticket valid until `expires_at`.
pub fn issue(signer: &FolderSigner, ticket: &Ticket, expires_at: OffsetDateTime) -> String {
    let token = signer.sign(&bound_field(&ticket.upload_id, &ticket.plan), &ticket.key, expires_at);
    format!("{}.{}.{token}", ticket.plan.size, ticket.plan.part_size)
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
    let (Some(size), Some(part_size), Some(token)) = (pieces.next(), pieces.next(), pieces.next()) else {
        return Err(TokenError::Malformed);
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
    signer.verify(token, &bound_field(upload_id, &plan), key, now)?;
    Ok(Ticket { key: key.to_owned(), upload_id: upload_id.to_owned(), plan })
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
