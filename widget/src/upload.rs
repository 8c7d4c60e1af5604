//! Browser → S3: one file as a `multipart/form-data` POST of the policy's fields and the file.

use alloc::string::String;

use js_sys::{decode_uri, Array, Object};
use wasm_bindgen::prelude::*;
use web_sys::{File, FormData};

use crate::failure::Failure;
use crate::instructions::Target;
use crate::s3_response;
use crate::xhr::{Handler, Request};

#[wasm_bindgen]
extern "C" {
    /// `formData.append(name, value)` with the name and value as they are, where web-sys would
    /// copy them into Rust strings and back.
    #[wasm_bindgen(js_namespace = ["FormData", "prototype", "append"], js_name = call)]
    fn append_field(form_data: &FormData, name: &JsValue, value: &JsValue);
}

/// Starts sending `file` where `target` says. `on_progress` gets the progress events of the
/// request body, `on_end` the end of the request, for [`read_answer`].
pub fn start(
    file: &File,
    target: &Target,
    on_progress: Handler,
    on_end: Handler,
) -> Result<Request, Failure> {
    let unreachable = || Failure::UploadUnreachable { file: file.name(), url: target.url.clone() };
    let body = FormData::new().map_err(|_| unreachable())?;
    for entry in Object::entries(&target.fields).iter() {
        let entry: Array = entry.unchecked_into();
        append_field(&body, &entry.get(0), &entry.get(1));
    }
    // Last, because S3 ignores every field after the file. The `File` itself goes in, so the
    // browser streams it from disk and its bytes never enter wasm memory.
    body.append_with_blob_and_filename("file", file, &target.name).map_err(|_| unreachable())?;
    Request::post(&target.url, &body, |_| {}, Some(on_progress), on_end).map_err(|_| unreachable())
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
    let answer = request.xhr.response_text().ok().flatten().unwrap_or_default();
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
