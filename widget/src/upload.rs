//! Browser → S3: one file as a `multipart/form-data` POST of the policy's fields and the file.

use alloc::string::String;

use web_sys::File;

use crate::effects;
use crate::failure::Failure;
use crate::instructions::Target;
use crate::xhr::{Call, Request};

/// Starts sending `file` where `target` says, as the file numbered `number` of the attempt
/// numbered `attempt`; with `content_type`, the file's type follows the target's fields
/// (django-s3file's markup). Its progress and its end come back to the attempt, the end for
/// [`read_answer`].
pub fn start(
    file: &File,
    target: &Target,
    content_type: bool,
    attempt: u32,
    number: usize,
) -> Result<Request, Failure> {
    // The `File` itself goes in, so the browser streams it from disk and its bytes never enter
    // wasm memory.
    let file_type = content_type.then(|| file.type_());
    let body = effects::upload_body(&target.fields, file_type.as_deref(), file, &target.name);
    Request::post(&target.url, &body, attempt, Call::Upload(number))
        .ok_or_else(|| Failure::UploadUnreachable { file: file.name(), url: target.url.clone() })
}

/// The key the store answered to `request`, the upload of `file` to `target`. With
/// `decode_key`, the key goes through `decodeURI` as django-s3file's script does. The browser
/// reads S3's XML.
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
    if !(200..300).contains(&status) {
        return Err(Failure::UploadRefused {
            file: file.name(),
            status,
            reason: effects::refusal(&request.xhr),
        });
    }
    // The store has the last word on the key; a store that answers without one (`204`, say)
    // stored it under the key the instructions predicted.
    Ok(effects::stored_key(&request.xhr, decode_key).unwrap_or_else(|| target.key.clone()))
}
