//! Browser file names: `sanitize_file_name` either refuses a name or returns a plain one, which
//! it keeps as it is and which finalize accepts as the name of an upload key.
//!
//! Input: the file name as the browser reports it (any bytes; invalid UTF-8 replaced).
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3file_fuzz::{assert_plain_name, FOLDER_ID, UPLOAD_PATH};
use s3file_signer::keys::{sanitize_file_name, UploadKey};

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let Ok(name) = sanitize_file_name(&raw) else { return };
    assert_plain_name(&name);
    assert_eq!(sanitize_file_name(&name).as_ref(), Ok(&name), "sanitizing is not idempotent");
    let key = format!("{UPLOAD_PATH}/{FOLDER_ID}/{name}");
    let parsed = UploadKey::parse(UPLOAD_PATH, &key)
        .unwrap_or_else(|error| panic!("finalize refuses the sanitized name {name:?}: {error}"));
    assert_eq!(parsed.name(), name);
    assert_eq!(parsed.folder(), format!("{UPLOAD_PATH}/{FOLDER_ID}"));
});
