//! Folder signatures: `FolderSigner::verify` never panics, accepts no token but one it signed
//! for exactly that field, folder and expiry, and a token it signed moves nowhere else.
//!
//! Input lines:
//! 1. a token (`<expiry>.<base64url MAC>`);
//! 2. a field name and 3. a folder, the token is verified for;
//! 4. the time, in unix seconds;
//! 5. a field name and 6. a folder, a fresh token is signed for at that time; it is then
//!    verified for the field and folder of lines 2 and 3.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3file_fuzz::{lines, text, time, SECRET};
use s3file_signer::folder_token::{FolderSigner, TokenError};
use time::{Duration, OffsetDateTime};

fuzz_target!(|data: &[u8]| {
    let lines = lines(data);
    let token = text(lines.first());
    let field = text(lines.get(1));
    let folder = text(lines.get(2));
    let now = time(lines.get(3));
    let signed_field = text(lines.get(4));
    let signed_folder = text(lines.get(5));
    let signer = FolderSigner::new(&[SECRET]);

    if signer.verify(&token, &field, &folder, now) == Ok(()) {
        // Only a token the signer itself would issue for this very field and folder.
        let (expires, _) = token.split_once('.').expect("an accepted token has a `.`");
        let expires = expires.parse::<i64>().expect("an accepted token has a decimal expiry");
        let expires_at = OffsetDateTime::from_unix_timestamp(expires).expect("a signable expiry");
        assert_eq!(token, signer.sign(&field, &folder, expires_at), "accepted a token it did not sign");
        assert!(now < expires_at, "accepted an expired token");
    }

    let expires_at = now + Duration::hours(1);
    let fresh = signer.sign(&signed_field, &signed_folder, expires_at);
    assert_eq!(signer.verify(&fresh, &signed_field, &signed_folder, now), Ok(()));
    assert_eq!(signer.verify(&fresh, &signed_field, &signed_folder, expires_at), Err(TokenError::Expired));
    let rotated = FolderSigner::new(&[b"a newer secret", SECRET]);
    assert_eq!(rotated.verify(&fresh, &signed_field, &signed_folder, now), Ok(()));
    let other = FolderSigner::new(&[b"another secret"]);
    assert_eq!(other.verify(&fresh, &signed_field, &signed_folder, now), Err(TokenError::BadSignature));

    // The domain the signer works in: the sign endpoint refuses field names with control
    // characters, and folders are `<upload path>/<folder id>`, never with NUL. Finalize verifies
    // any field name a form carries, but only for such folders.
    let signable = !signed_field.chars().any(char::is_control) && !signed_folder.contains('\0');
    if signable && !folder.contains('\0') {
        let same = field == signed_field && folder == signed_folder;
        let verified = signer.verify(&fresh, &field, &folder, now);
        assert_eq!(
            verified.is_ok(),
            same,
            "a token signed for ({signed_field:?}, {signed_folder:?}) verified as {verified:?} \
             for ({field:?}, {folder:?})"
        );
    }

    // Another expiry, written any way, is refused.
    if let Some((_, mac)) = fresh.split_once('.') {
        let later = expires_at.unix_timestamp() + 1;
        for expiry in [format!("{later}"), format!("0{}", expires_at.unix_timestamp())] {
            let moved = format!("{expiry}.{mac}");
            assert!(signer.verify(&moved, &signed_field, &signed_folder, now).is_err(), "{moved}");
        }
    }
});
