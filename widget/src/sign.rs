//! `POST /s3file/sign`: asks the signer where and how to upload the files of one input.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, Object, JSON};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{FileList, XmlHttpRequestResponseType};

use crate::failure::Failure;
use crate::js;
use crate::xhr::Request;

/// The signer's answer for one input.
pub struct SignedField {
    /// Proves to finalize that the keys were issued for this field.
    pub signature: String,
    /// One per file, in the order of the request.
    pub files: Vec<SignedFile>,
}

/// Where and how to upload one file.
pub struct SignedFile {
    /// The file name the signer accepted; the file is sent under it so `${filename}` in the
    /// policy's key becomes exactly `key`.
    pub name: String,
    pub key: String,
    pub url: String,
    /// The form fields of the POST policy, in the order they must be sent. They go from the
    /// signer's JSON to the upload's `FormData` without a stop in Rust.
    pub fields: Object,
}

/// Asks the signer at `url` to sign the upload of `files` for the form field `field`.
pub async fn sign(url: &str, field: &str, files: &FileList) -> Result<SignedField, Failure> {
    let unreachable = || Failure::SignUnreachable { url: url.to_owned() };
    let request = Request::post(url).map_err(|_| unreachable())?;
    let _ = request.xhr.set_request_header("Content-Type", "application/json");
    let _ = request.xhr.set_request_header("Accept", "application/json");
    // The browser parses the answer; a body that is not JSON becomes `null`.
    request.xhr.set_response_type(XmlHttpRequestResponseType::Json);
    let body = request_body(field, files);
    request.send(&body).await.ok_or_else(unreachable)?;

    let answer = request.xhr.response().unwrap_or(JsValue::NULL);
    let status = request.status();
    if !(200..300).contains(&status) {
        let reason = js::text(&answer, "error");
        return Err(Failure::SignRefused { url: url.to_owned(), status, reason });
    }
    read_answer(&answer, files.length())
        .map_err(|problem| Failure::SignGarbled { url: url.to_owned(), problem })
}

/// `{"field": …, "files": [{"name", "size", "type"}, …]}` as JSON text.
fn request_body(field: &str, files: &FileList) -> JsValue {
    let descriptions = Array::new();
    for index in 0..files.length() {
        let Some(file) = files.get(index) else {
            continue;
        };
        descriptions.push(&js::object(&[
            ("name", js::get(&file, "name")),
            ("size", js::get(&file, "size")),
            ("type", js::get(&file, "type")),
        ]));
    }
    let body = js::object(&[("field", field.into()), ("files", descriptions.into())]);
    // Cannot fail: plain strings and numbers.
    JSON::stringify(&body).map(JsValue::from).unwrap_or_default()
}

/// Checks the answer follows the protocol; `Err` says what does not.
fn read_answer(answer: &JsValue, file_count: u32) -> Result<SignedField, &'static str> {
    let signature = js::text(answer, "signature").ok_or("it has no signature")?;
    let Ok(files) = js::get(answer, "files").dyn_into::<Array>() else {
        return Err("it has no files");
    };
    if files.length() != file_count {
        return Err("it signed another number of files than it was asked to");
    }
    let mut signed = Vec::with_capacity(file_count as usize);
    for index in 0..file_count {
        signed.push(read_file(&files.get(index))?);
    }
    Ok(SignedField { signature, files: signed })
}

/// One entry of the answer's `files`.
fn read_file(file: &JsValue) -> Result<SignedFile, &'static str> {
    let name = js::text(file, "name").ok_or("a file has no name")?;
    let key = js::text(file, "key").ok_or("a file has no key")?;
    let url = js::text(file, "url").ok_or("a file has no url")?;
    let fields = js::get(file, "fields");
    if !fields.is_object() {
        return Err("a file has no fields");
    }
    Ok(SignedFile { name, key, url, fields: fields.unchecked_into() })
}
