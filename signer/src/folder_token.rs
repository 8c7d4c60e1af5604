//! The signature that ties an upload folder to one form field for a limited time.
//!
//! The sign endpoint hands it out with each folder; finalize accepts a key only if its folder's
//! token verifies. A token is `<expiry unix seconds>.<base64url HMAC-SHA256>` over the field name,
//! the folder and the expiry, so it can be neither moved to another folder or field nor extended.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Why a folder signature was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    Expired,
    BadSignature,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenError::Malformed => "the upload signature is malformed",
            TokenError::Expired => "the upload signature has expired; upload the files again",
            TokenError::BadSignature => "the upload signature does not match the uploaded files",
        })
    }
}

/// Signs with the first secret; verifies with any, so a secret can be rotated without
/// invalidating the forms users are filling in.
pub struct FolderSigner {
    secrets: Vec<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for FolderSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FolderSigner({} secrets)", self.secrets.len())
    }
}

impl FolderSigner {
    /// `secrets` must not be empty; the first one signs.
    pub fn new(secrets: &[&[u8]]) -> FolderSigner {
        assert!(!secrets.is_empty(), "a folder signer needs at least one secret");
        FolderSigner { secrets: secrets.iter().map(|secret| Zeroizing::new(secret.to_vec())).collect() }
    }

    pub fn sign(&self, field: &str, folder: &str, expires_at: OffsetDateTime) -> String {
        let expires = expires_at.unix_timestamp();
        let mac = mac(&self.secrets[0], field, folder, expires).finalize().into_bytes();
        format!("{expires}.{}", BASE64URL.encode(mac))
    }

    pub fn verify(
        &self,
        token: &str,
        field: &str,
        folder: &str,
        now: OffsetDateTime,
    ) -> Result<(), TokenError> {
        let (expires, signature) = token.split_once('.').ok_or(TokenError::Malformed)?;
        // Only canonical decimal: a token with a leading `+` or zero would sign the same expiry
        // under several spellings.
        if expires.is_empty() || expires.starts_with('0') || !expires.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TokenError::Malformed);
        }
        let expires: i64 = expires.parse().map_err(|_| TokenError::Malformed)?;
        let signature = BASE64URL.decode(signature).map_err(|_| TokenError::Malformed)?;
        let valid = self
            .secrets
            .iter()
            .any(|secret| mac(secret, field, folder, expires).verify_slice(&signature).is_ok());
        if !valid {
            return Err(TokenError::BadSignature);
        }
        // Checked after the signature, so a forged expiry is reported as forged.
        if now.unix_timestamp() >= expires {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

fn mac(secret: &[u8], field: &str, folder: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    // NUL separators: neither a field name nor a folder can contain NUL, so no two
    // (field, folder) pairs produce the same message.
    mac.update(b"s3file-folder-v1\0");
    mac.update(field.as_bytes());
    mac.update(b"\0");
    mac.update(folder.as_bytes());
    mac.update(b"\0");
    mac.update(expires.to_string().as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);
    const LATER: OffsetDateTime = datetime!(2026-11-22 11:00 UTC);

    fn signer() -> FolderSigner {
        FolderSigner::new(&[b"current secret"])
    }

    #[test]
    fn a_token_verifies_for_its_field_and_folder_until_it_expires() {
        let token = signer().sign("file", "tmp/s3file/abc", LATER);
        assert_eq!(signer().verify(&token, "file", "tmp/s3file/abc", NOW), Ok(()));
        assert_eq!(signer().verify(&token, "file", "tmp/s3file/abc", LATER), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_does_not_move_to_another_folder_or_field() {
        let token = signer().sign("file", "tmp/s3file/abc", LATER);
        assert_eq!(signer().verify(&token, "file", "tmp/s3file/abd", NOW), Err(TokenError::BadSignature));
        assert_eq!(signer().verify(&token, "file", "tmp/s3file/abc/x", NOW), Err(TokenError::BadSignature));
        assert_eq!(signer().verify(&token, "other", "tmp/s3file/abc", NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn the_expiry_cannot_be_extended() {
        let token = signer().sign("file", "f", NOW);
        let (_, mac) = token.split_once('.').unwrap();
        let extended = format!("{}.{mac}", LATER.unix_timestamp() + 3600);
        assert_eq!(signer().verify(&extended, "file", "f", NOW), Err(TokenError::BadSignature));
        let padded = format!("0{token}");
        assert_eq!(signer().verify(&padded, "file", "f", NOW), Err(TokenError::Malformed));
    }

    #[test]
    fn another_secret_is_refused_and_rotation_keeps_old_tokens_valid() {
        let old = FolderSigner::new(&[b"old secret"]);
        let token = old.sign("file", "f", LATER);
        assert_eq!(signer().verify(&token, "file", "f", NOW), Err(TokenError::BadSignature));
        let rotated = FolderSigner::new(&[b"current secret", b"old secret"]);
        assert_eq!(rotated.verify(&token, "file", "f", NOW), Ok(()));
        let fresh = rotated.sign("file", "f", LATER);
        assert_eq!(signer().verify(&fresh, "file", "f", NOW), Ok(()));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in ["", "abc", "123", ".abc", "12a.abc", "123.***", "-5.abc", "+5.abc"] {
            assert_eq!(signer().verify(bad, "file", "f", NOW), Err(TokenError::Malformed), "{bad:?}");
        }
    }
}
