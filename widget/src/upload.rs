//! Browser → S3: one transfer, a whole file (a `multipart/form-data` POST of the policy's fields
//! and the file, or a presigned PUT) or one part of a multipart upload (a presigned PUT of a
//! `Blob.slice`). The browser streams the bytes from disk: they never enter wasm memory.

use alloc::string::String;

use wasm_bindgen::JsValue;
use web_sys::File;

use crate::backoff::{self, Verdict};
use crate::effects;
use crate::failure::Failure;
use crate::instructions::{Kind, Target};
use crate::js;
use crate::xhr::{Call, Request, Stall};

/// Where one transfer goes: the target's own URL, or, for a part, its presigned request
/// (`{url, headers}` from the signer) and its byte range.
pub struct Part<'a> {
    pub number: u32,
    pub presigned: &'a JsValue,
    pub range: (f64, f64),
}

/// Starts sending `part` of `file` (the file numbered `number` of the attempt numbered
/// `attempt`) where `target` says; with `content_type`, a POST's fields get the file's type
/// (django-s3file's markup). Its progress and its end come back to the attempt, the end for
/// [`read_answer`].
pub fn start(
    file: &File,
    target: &Target,
    part: &Part,
    content_type: bool,
    (attempt, number): (u32, usize),
    stall: &Stall,
) -> Result<Request, Failure> {
    let call = Call::Send(number, part.number);
    let (method, url, headers, body) = match &target.kind {
        Kind::Post => {
            let file_type = content_type.then(|| file.type_());
            let body = effects::upload_body(&target.fields, file_type.as_deref(), file, &target.name);
            ("POST", target.url.clone(), JsValue::UNDEFINED, body.into())
        }
        Kind::Put => ("PUT", target.url.clone(), target.fields.clone(), file.into()),
        Kind::Multipart(_) => {
            let url = js::text(part.presigned, "url").unwrap_or_default();
            let body = effects::slice(file, part.range.0, part.range.1);
            ("PUT", url, js::get(part.presigned, "headers"), body)
        }
    };
    Request::upload(method, &url, &headers, &body, attempt, call, stall)
        .ok_or_else(|| Failure::UploadUnreachable { file: file.name(), url })
}

/// What came of a transfer: the key the store answered (for a whole file; a part has none), or
/// why it failed and whether that is worth another try. With `decode_key`, the key goes
/// through `decodeURI` as django-s3file's script does.
pub fn read_answer(
    request: &Request,
    file: &File,
    target: &Target,
    decode_key: bool,
) -> Result<String, (Failure, Verdict)> {
    let status = request.status();
    if (200..300).contains(&status) {
        // The store has the last word on the key of a POST; a store that answers without one
        // (`204`, say), and a PUT, stored it under the key the instructions predicted.
        let key = matches!(target.kind, Kind::Post).then(|| effects::stored_key(&request.xhr, decode_key));
        return Ok(key.flatten().unwrap_or_else(|| target.key.clone()));
    }
    let reason = (status != 0).then(|| effects::refusal(&request.xhr)).flatten();
    let code = (status != 0).then(|| effects::error_code(&request.xhr)).flatten();
    let verdict = backoff::verdict(status, code.as_deref(), reason.as_deref());
    let failure = if status == 0 {
        Failure::UploadUnreachable { file: file.name(), url: target.url.clone() }
    } else {
        Failure::UploadRefused { file: file.name(), status, reason }
    };
    Err((failure, verdict))
}
