//! `POST /s3file/sign`: asks the signer how to upload the files of one input.

use alloc::borrow::ToOwned;

use js_sys::Array;
use wasm_bindgen::JsValue;
use web_sys::File;

use crate::failure::Failure;
use crate::instructions::{self, Instructions};
use crate::xhr::{Call, Request};
use crate::{effects, js};

/// What the signer is asked, besides the files.
pub struct Restrictions<'a> {
    /// The input's `accept` attribute.
    pub accept: Option<&'a str>,
    /// The page's size limit in bytes.
    pub max_size: Option<u64>,
}

/// Asks the signer at `url` to sign the upload of `files` for the form field `field`, the
/// field numbered `index` of the attempt numbered `attempt`; the answer comes back to the
/// attempt, for [`read_answer`].
pub fn request(
    url: &str,
    field: &str,
    files: &[File],
    restrictions: &Restrictions,
    attempt: u32,
    index: usize,
) -> Result<Request, Failure> {
    let body = request_body(field, files, restrictions);
    // The browser parses the answer; a body that is not JSON becomes `null`.
    Request::json(url, &body, attempt, Call::Sign(index))
        .ok_or_else(|| Failure::SignUnreachable { url: url.to_owned() })
}

/// The signer's answer to `request` for `file_count` files.
pub fn read_answer(url: &str, request: &Request, file_count: usize) -> Result<Instructions, Failure> {
    let status = request.status();
    if status == 0 {
        return Err(Failure::SignUnreachable { url: url.to_owned() });
    }
    let answer = request.xhr.response();
    if !(200..300).contains(&status) {
        let reason = js::text(&answer, "error");
        return Err(Failure::SignRefused { url: url.to_owned(), status, reason });
    }
    instructions::from_sign_answer(&answer, file_count)
        .map_err(|problem| Failure::SignGarbled { url: url.to_owned(), problem })
}

/// `{"field", "files": [{"name", "size", "type"}, …], "accept"?, "max_size"?}` as JSON text.
fn request_body(field: &str, files: &[File], restrictions: &Restrictions) -> JsValue {
    let list = Array::new();
    for file in files {
        list.push(file);
    }
    // Exact up to 2^53 bytes, far beyond any file.
    let max_size = restrictions.max_size.map(|max_size| max_size as f64);
    effects::sign_body(field, &list, restrictions.accept, max_size)
}
