//! Submitted keys: `UploadKey::parse` never panics, and whatever it accepts is exactly
//! `<upload path>/<folder id>/<plain name>`, split where `folder()` and `name()` say.
//!
//! Input: the upload path on the first line, then the key (the rest, newlines included).
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3file_fuzz::{assert_plain_name, UPLOAD_PATH};
use s3file_signer::keys::UploadKey;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (upload_path, key) = text.split_once('\n').unwrap_or((UPLOAD_PATH, &text));
    check(upload_path, key);
    // The key alone, under the usual upload path and at the bucket's root.
    check(UPLOAD_PATH, &text);
    check("", &text);
});

fn check(upload_path: &str, key: &str) {
    let Ok(parsed) = UploadKey::parse(upload_path, key) else { return };
    assert_eq!(parsed.as_str(), key);
    assert_eq!(format!("{}/{}", parsed.folder(), parsed.name()), key);
    assert_plain_name(parsed.name());

    // Directly under the upload path: one folder id, then the name.
    let upload_path = upload_path.trim_matches('/');
    let folder_id = if upload_path.is_empty() {
        parsed.folder()
    } else {
        let inside = parsed.folder().strip_prefix(upload_path).and_then(|rest| rest.strip_prefix('/'));
        inside.unwrap_or_else(|| panic!("{key:?} is not under the upload path {upload_path:?}"))
    };
    assert!((16..=64).contains(&folder_id.len()), "folder id {folder_id:?} of {key:?}");
    assert!(
        folder_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "folder id {folder_id:?} of {key:?}"
    );

    // What the upload path itself does not bring in (it is the operator's setting): no `..`,
    // `.` or empty segment, no `\`, no control character.
    let own = &key[key.len() - folder_id.len() - 1 - parsed.name().len()..];
    for segment in own.split('/') {
        assert!(!matches!(segment, "" | "." | ".."), "segment {segment:?} in {key:?}");
    }
    assert!(!own.contains('\\') && !own.chars().any(char::is_control), "{key:?}");
    if upload_path.split('/').all(|segment| !matches!(segment, "" | "." | "..")) || upload_path.is_empty() {
        let whole = key.split('/').collect::<Vec<_>>();
        assert!(whole.iter().all(|segment| !matches!(*segment, "" | "." | "..")), "{key:?}");
    }
}
