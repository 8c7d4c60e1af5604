//! Browser → S3: one file as a `multipart/form-data` POST of the policy's fields and the file.

use alloc::string::String;

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use web_sys::{File, FormData, ProgressEvent};

use crate::failure::Failure;
use crate::s3_response;
use crate::sign::SignedFile;
use crate::xhr::Request;

#[wasm_bindgen]
extern "C" {
    /// `formData.append(name, value)` with the name and value as the signer sent them, where
    /// web-sys would copy them into Rust strings and back.
    #[wasm_bindgen(js_namespace = ["FormData", "prototype", "append"], js_name = call)]
    fn append_field(form_data: &FormData, name: &JsValue, value: &JsValue);
}

/// Sends `file` where `signed` says and returns the stored key and the request's `loadend`
/// event.
/// `on_progress` gets the progress events of the request body.
pub async fn upload(
    file: &File,
    signed: &SignedFile,
    on_progress: impl FnMut(ProgressEvent) + 'static,
) -> Result<(String, ProgressEvent), Failure> {
    let unreachable = || Failure::UploadUnreachable { file: file.name(), url: signed.url.clone() };
    let body = FormData::new().map_err(|_| unreachable())?;
    for entry in Object::entries(&signed.fields).iter() {
        let entry: Array = entry.unchecked_into();
        append_field(&body, &entry.get(0), &entry.get(1));
    }
    // Last, because S3 ignores every field after the file. The `File` itself goes in, so the
    // browser streams it from disk and its bytes never enter wasm memory.
    body.append_with_blob_and_filename("file", file, &signed.name).map_err(|_| unreachable())?;

    let mut request = Request::post(&signed.url).map_err(|_| unreachable())?;
    request.on_upload_progress(on_progress).map_err(|_| unreachable())?;
    let loaded = request.send(&body).await.ok_or_else(unreachable)?;

    let status = request.status();
    let answer = request.xhr.response_text().ok().flatten().unwrap_or_default();
    if !(200..300).contains(&status) {
        let reason = s3_response::error_reason(&answer);
        return Err(Failure::UploadRefused { file: file.name(), status, reason });
    }
    // The store has the last word on the key; a store that answers without one (`204`, say)
    // stored it under the key the signer predicted.
    let key = s3_response::key(&answer).unwrap_or_else(|| signed.key.clone());
    Ok((key, loaded))
}
