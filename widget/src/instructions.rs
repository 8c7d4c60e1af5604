//! Upload instructions: where and how to send each file of one input, and what proves the keys
//! to finalize. They come from the signer's answer, or from django-s3file's markup on the input.

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use web_sys::{File, HtmlInputElement};

use crate::{effects, js, presigned};

pub struct Instructions {
    /// Proves to finalize that the keys were issued for this field.
    pub signature: String,
    /// One per file, in file order.
    pub files: Vec<Target>,
    /// Whether they come from django-s3file's markup: each upload then adds the file's
    /// `Content-Type` to the fields, and the store's `<Key>` goes through `decodeURI`, as
    /// django-s3file's script does.
    pub markup: bool,
    /// When the first file's POST policy expires, in Unix milliseconds, if it says.
    pub expires_at: Option<f64>,
}

/// Where and how to upload one file.
pub struct Target {
    /// The file name to send; with the signer, the name it accepted, so `${filename}` in the
    /// policy's key becomes exactly `key`.
    pub name: String,
    /// The key the store is expected to answer.
    pub key: String,
    pub url: String,
    /// The form fields of the POST policy, in the order they must be sent. They go from the
    /// signer's JSON or the input's attributes to the upload's `FormData` without a stop in Rust.
    pub fields: Object,
}

/// Reads the signer's answer for `file_count` files; `Err` says what does not follow the
/// protocol.
pub fn from_sign_answer(answer: &JsValue, file_count: usize) -> Result<Instructions, &'static str> {
    let signature = js::text(answer, "signature").ok_or("it has no signature")?;
    let Ok(files) = js::get(answer, "files").dyn_into::<Array>() else {
        return Err("it has no files");
    };
    if files.length() as usize != file_count {
        return Err("it signed another number of files than it was asked to");
    }
    let mut targets = Vec::with_capacity(file_count);
    for file in files.iter() {
        let name = js::text(&file, "name").ok_or("a file has no name")?;
        let key = js::text(&file, "key").ok_or("a file has no key")?;
        let url = js::text(&file, "url").ok_or("a file has no url")?;
        let fields = js::get(&file, "fields");
        if !fields.is_object() {
            return Err("a file has no fields");
        }
        targets.push(Target { name, key, url, fields: fields.unchecked_into() });
    }
    Ok(with_expiry(Instructions { signature, files: targets, markup: false, expires_at: None }))
}

/// The instructions django-s3file rendered into `input` (see `presigned`), for `files`.
pub fn from_markup(input: &HtmlInputElement, files: &[File]) -> Instructions {
    let attribute = |name: &str| input.get_attribute(name).unwrap_or_default();
    // The same fields for every file; the upload adds each file's `Content-Type`.
    let fields = effects::markup_fields(input);
    let key_template = js::text(&fields, "key").unwrap_or_default();
    let url = attribute("data-url");
    let targets = files
        .iter()
        .map(|file| {
            let name = file.name();
            let key = presigned::predicted_key(&key_template, &name);
            Target { key, name, url: url.clone(), fields: fields.clone() }
        })
        .collect();
    let signature = attribute("data-s3f-signature");
    with_expiry(Instructions { signature, files: targets, markup: true, expires_at: None })
}

fn with_expiry(mut instructions: Instructions) -> Instructions {
    let expires_at = instructions.files.first().map(|target| effects::policy_expiry(&target.fields));
    instructions.expires_at = expires_at.filter(|time| !time.is_nan());
    instructions
}
