//! Browser → S3: one file as a `multipart/form-data` POST of the policy's fields and the file.

use alloc::string::String;

use js_sys::decode_uri;
use web_sys::File;

use crate::effects;
use crate::failure::Failure;
use crate::instructions::Target;
use crate::s3_response;
use crate::xhr::{Handler, Request};

/// Starts sending `file` where `target` says. `on_progress` gets the progress events of the
/// request body, `on_end` the end of the request, for [`read_answer`].
pub fn start(
    file: &File,
    target: &Target,
    on_progress: Handler,
    on_end: Handler,
) -> Result<Request, Failure> {
    // The `File` itself goes in, so the browser streams it from disk and its bytes never enter
    // wasm memory.
    let body = effects::upload_body(&target.fields, file, &target.name);
    Request::post(&target.url, &body, |_| {}, Some(on_progress), on_end)
        .map_err(|_| Failure::UploadUnreachable { file: file.name(), url: target.url.clone() })
}

/// The key the store answered to `request`, the upload of `file` to `target`. With
/// `decode_key`, the key goes through `decodeURI` as django-s3file's script does.
pub fn read_answer(
    request: &Request,
    file: &File,
    target: &Target,
    decode_key: bool,
) -> Result<String, Failure> {
    let status = request.status();
    if status == 0 {
        return Err(Failure::UploadUnreachable { file: file.name(), url: target.url.clone() });
    }
    let answer = request.xhr.response_text();
    if !(200..300).contains(&status) {
        let reason = s3_response::error_reason(&answer);
        return Err(Failure::UploadRefused { file: file.name(), status, reason });
    }
    // The store has the last word on the key; a store that answers without one (`204`, say)
    // stored it under the key the instructions predicted.
    let Some(key) = s3_response::key(&answer) else {
        return Ok(target.key.clone());
    };
    if !decode_key {
        return Ok(key);
    }
    // A key with a `%` that starts no escape cannot be decoded; it is used as it is.
    Ok(decode_uri(&key).ok().and_then(|decoded| decoded.as_string()).unwrap_or(key))
}
