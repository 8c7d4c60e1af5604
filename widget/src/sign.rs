//! `POST /s3file/sign`: asks the signer how to upload the files of one input.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use js_sys::Array;
use wasm_bindgen::JsValue;
use web_sys::File;

use crate::bindings::xhr::{self, Xhr};
use crate::bindings::{effects, js};
use crate::failure::Failure;
use crate::instructions::{self, Target};

/// What the signer is asked, besides the files.
pub struct Restrictions<'a> {
    /// The input's `accept` attribute.
    pub accept: Option<&'a str>,
    /// The page's size limit in bytes.
    pub max_size: Option<u64>,
}

/// Asks the signer at `url`, as request number `request`, to sign the upload of `files` for the
/// form field `field`; the answer comes back with that number, for [`read_answer`].
pub fn request(
    url: &str,
    field: &str,
    files: &[File],
    restrictions: &Restrictions,
    request: u32,
) -> Result<(), Failure> {
    // `{"field", "files": [{"name", "size", "type", "uploadId"?}, …], "accept"?, "max_size"?,
    // "resume"?}` as JSON text. A multipart upload kept from an earlier page load is resumed in
    // its folder: the first file's kept folder is the field's, and each file kept in that same
    // folder asks for its upload again.
    let (list, upload_ids) = (Array::new(), Array::new());
    let mut resume: Option<(String, JsValue)> = None;
    for file in files {
        list.push(file);
        let kept = effects::recall(field, file);
        let folder = js::text(&kept, "folder");
        if let (None, Some(folder)) = (&resume, &folder) {
            resume = Some((folder.clone(), kept.clone()));
        }
        let same_folder = matches!((&resume, &folder), (Some((chosen, _)), Some(folder)) if chosen == folder);
        upload_ids.push(&if same_folder { js::get(&kept, "uploadId") } else { JsValue::UNDEFINED });
    }
    let resume = resume.map_or(JsValue::UNDEFINED, |(_, kept)| kept);
    // Exact up to 2^53 bytes, far beyond any file.
    let max_size = restrictions.max_size.map(|max_size| max_size as f64);
    let body = effects::sign_body(field, &list, &upload_ids, restrictions.accept, max_size, &resume);
    // The browser parses the answer; a body that is not JSON becomes `null`.
    if xhr::ask(request, url, &body) {
        return Ok(());
    }
    Err(Failure::SignUnreachable { url: url.to_owned() })
}

/// The signer's answer (`xhr`) for `count` files: its signature and their targets.
pub fn read_answer(url: &str, xhr: &Xhr, count: usize) -> Result<(String, Vec<Target>), Failure> {
    let status = xhr.status();
    let answer = xhr.response();
    if !(200..300).contains(&status) {
        return Err(signer_failure(url, status, &answer));
    }
    instructions::from_sign_answer(&answer, count)
        .map_err(|problem| Failure::SignGarbled { url: url.to_owned(), problem })
}

/// What an answer of the signer at `url` with an error `status` (0: none came) means.
pub fn signer_failure(url: &str, status: u16, answer: &wasm_bindgen::JsValue) -> Failure {
    let url = url.to_owned();
    if status == 0 {
        return Failure::SignUnreachable { url };
    }
    Failure::SignRefused { url, status, reason: js::text(answer, "error") }
}
