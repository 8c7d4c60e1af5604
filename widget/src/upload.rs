//! Browser → S3: one transfer, a whole file (a `multipart/form-data` POST of the policy's fields
//! and the file, or a presigned PUT) or one part of a multipart upload (a presigned PUT of a
//! `Blob.slice`). The browser streams the bytes from disk: they never enter wasm memory.
//!
//! Each transfer carries the checksum of its bytes the signer asked for, which the store
//! verifies before it keeps them (`widget/js/digest.js` reads the bytes once more to compute
//! it, in a Web Worker). A PUT carries `Content-MD5`, unless checksums are off: a presigned URL
//! lets no `x-amz-*` header through that it did not sign, and the checksum is known only once
//! the signer has answered. A POST carries `Content-MD5` or `x-amz-checksum-crc32` as a field
//! the signer's policy requires with any value (AWS checks the first, SeaweedFS only the
//! second). django-s3file's policies allow no such field: their POSTs go without.

use alloc::string::String;

use wasm_bindgen::prelude::*;
use web_sys::File;

use crate::backoff::{self, Verdict};
use crate::bindings::effects;
use crate::bindings::js;
use crate::bindings::xhr::{Checksum, Transfer, Xhr};
use crate::failure::Failure;
use crate::instructions::{self, Target, Upload};

/// Where one part of a multipart upload goes: its presigned request (`{url, headers}` from the
/// signer) and its byte range.
pub struct Part<'a> {
    pub presigned: &'a JsValue,
    pub range: (f64, f64),
}

/// Starts sending `file` where `target` says (for a multipart upload, `part` of it) as request
/// `request`, abandoned after `stall` ms without progress; with `markup` (django-s3file's), a
/// POST's fields get the file's type. Its progress and its end come back with the request's
/// number, the end for [`read_answer`].
pub fn start(
    file: &File,
    target: &Target,
    part: &Part,
    markup: bool,
    request: u32,
    stall: f64,
) -> Result<(), Failure> {
    let (method, url, headers, body, checksum) = match &target.upload {
        Upload::Post { url, post } => {
            let file_type = markup.then(|| file.type_());
            let checksum = match target.checksum {
                instructions::Checksum::Md5 => Checksum::Md5,
                instructions::Checksum::Crc32 => Checksum::Crc32,
                instructions::Checksum::Off => Checksum::None,
            };
            let body = effects::upload_body(post, file_type.as_deref(), file, &target.name);
            ("POST", url.clone(), JsValue::UNDEFINED, body.into(), checksum)
        }
        Upload::Put { url, headers } => {
            ("PUT", url.clone(), headers.clone(), file.into(), put_checksum(target))
        }
        Upload::Multipart { .. } => {
            let url = js::text(part.presigned, "url").unwrap_or_default();
            let body = effects::slice(file, part.range.0, part.range.1);
            ("PUT", url, js::get(part.presigned, "headers"), body, put_checksum(target))
        }
    };
    let transfer = Transfer { method, url: &url, headers: &headers, body: &body, stall, checksum };
    if transfer.send(request) {
        return Ok(());
    }
    Err(Failure::UploadUnreachable { file: js::name(file), url: Some(url) })
}

/// The checksum a PUT (of a whole file or a part) carries: `Content-MD5`, the one a presigned
/// URL lets through, unless checksums are off.
fn put_checksum(target: &Target) -> Checksum {
    match target.checksum {
        instructions::Checksum::Md5 | instructions::Checksum::Crc32 => Checksum::Md5,
        instructions::Checksum::Off => Checksum::None,
    }
}

/// What came of a transfer: the key the store answered (for a whole file; a part has none), or
/// why it failed and whether that is worth another try. With `decode_key`, the key goes
/// through `decodeURI` as django-s3file's script does.
pub fn read_answer(
    xhr: &Xhr,
    file: &File,
    target: &Target,
    decode_key: bool,
) -> Result<String, (Failure, Verdict)> {
    let status = xhr.status();
    if (200..300).contains(&status) {
        // The store has the last word on the key of a POST; a store that answers without one
        // (`204`, say), and a PUT, stored it under the key the instructions predicted.
        let key = matches!(target.upload, Upload::Post { .. }).then(|| effects::stored_key(xhr, decode_key));
        return Ok(key.flatten().unwrap_or_else(|| target.key.clone()));
    }
    // Sending it again would not help: only choosing it again does.
    if xhr.file_changed() {
        return Err((Failure::FileChanged { file: js::name(file) }, Verdict::Fatal));
    }
    let reason = (status != 0).then(|| effects::refusal(xhr)).flatten();
    let code = (status != 0).then(|| effects::error_code(xhr)).flatten();
    let verdict = backoff::verdict(status, code.as_deref(), reason.as_deref());
    let failure = if xhr.checksum_stalled() {
        Failure::ChecksumStalled { file: js::name(file) }
    } else if status == 0 {
        Failure::UploadUnreachable { file: js::name(file), url: target.url().map(String::from) }
    } else {
        Failure::UploadRefused { file: js::name(file), status, reason }
    };
    Err((failure, verdict))
}
