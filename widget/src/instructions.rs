//! Upload instructions: where and how to send each file of one input, and what proves the keys
//! to finalize. They come from the signer's answer, or from django-s3file's markup on the input.

use alloc::string::String;

use alloc::vec::Vec;

use js_sys::Array;
use wasm_bindgen::prelude::*;
use web_sys::{File, HtmlInputElement};

use crate::attempt::machine::{Shape, Signed};
use crate::bindings::{effects, js};
use crate::presigned;

/// Where and how to upload one file.
pub struct Target {
    /// The file name to send; with the signer, the name it accepted, so `${filename}` in the
    /// policy's key becomes exactly `key`.
    pub name: String,
    /// The key the store is expected to answer.
    pub key: String,
    pub upload: Upload,
    pub checksum: Checksum,
}

/// The checksum the signer asks uploads to carry, which the store verifies (PROTOCOL.md,
/// "Upload"; the signer's `S3FILE_CHECKSUM`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    /// `Content-MD5`: a PUT's or a part's header, a POST's form field.
    Md5,
    /// A POST's form field `x-amz-checksum-crc32`; PUTs and parts carry `Content-MD5`.
    Crc32,
    /// None.
    Off,
}

impl Checksum {
    /// The sign answer's `checksum`; an answer without one comes from a signer that always
    /// asked for `crc32`.
    fn from_answer(value: Option<&str>) -> Result<Checksum, &'static str> {
        match value {
            Some("md5") => Ok(Checksum::Md5),
            Some("crc32") | None => Ok(Checksum::Crc32),
            Some("off") => Ok(Checksum::Off),
            Some(_) => Err("it asks for an unknown checksum"),
        }
    }
}

/// How a file goes up (PROTOCOL.md, "Upload"). The fields and headers go from the signer's
/// JSON or the input's attributes to the request without a stop in Rust.
pub enum Upload {
    /// A POST to `url` as `post` says: the sign answer's object for the file, or one made of
    /// django-s3file's markup. Its `fields` are the policy's form fields, in the order they must
    /// be sent; its `gzip`, when the signer offers it, has the fields of the file compressed
    /// (PROTOCOL.md, "Gzip").
    Post { url: String, post: JsValue },
    /// A presigned PUT to `url` with the header pairs `headers`.
    Put { url: String, headers: JsValue },
    /// A multipart upload the signer started: `spec` is its `multipart` object, whose
    /// `uploadId` and `ticket` effects.js sends back to the signer, and whose `done` lists the
    /// parts S3 holds already when the upload was resumed. Its parts have URLs of their own.
    Multipart { spec: JsValue, part_size: f64, part_count: u32 },
}

impl Target {
    /// The signer's `multipart` object, for a multipart upload.
    pub fn multipart(&self) -> Option<&JsValue> {
        match &self.upload {
            Upload::Multipart { spec, .. } => Some(spec),
            _ => None,
        }
    }

    /// Where the file goes whole; `None` for a multipart upload.
    pub fn url(&self) -> Option<&str> {
        match &self.upload {
            Upload::Post { url, .. } | Upload::Put { url, .. } => Some(url),
            Upload::Multipart { .. } => None,
        }
    }

    /// How the file goes up, for the attempt's state machine: a multipart upload's parts that
    /// the store holds already come from the signer's `done`.
    fn shape(&self) -> Shape {
        match &self.upload {
            Upload::Multipart { spec, part_size, part_count } => {
                let mut done = Vec::new();
                let numbers = js::get(spec, "done");
                if Array::is_array(&numbers) {
                    for number in js::items(&numbers).filter_map(|number| number.as_f64()) {
                        done.push(number as u32);
                    }
                }
                Shape::Multipart { part_size: *part_size, part_count: *part_count, done }
            }
            Upload::Post { .. } | Upload::Put { .. } => Shape::Whole,
        }
    }

    /// The POST's object (its `fields`, its `gzip`), for a POST.
    fn post(&self) -> Option<&JsValue> {
        match &self.upload {
            Upload::Post { post, .. } => Some(post),
            _ => None,
        }
    }
}

/// One file of the signer's answer, to carry `checksum`.
fn target(file: &JsValue, checksum: Checksum) -> Result<Target, &'static str> {
    let name = js::text(file, "name").ok_or("a file has no name")?;
    let key = js::text(file, "key").ok_or("a file has no key")?;
    let multipart = js::get(file, "multipart");
    let put = js::get(file, "put");
    let upload = if multipart.is_object() {
        let number = |name| js::get(&multipart, name).as_f64().filter(|number| *number >= 1.0);
        // The widget keeps a record per part: no more than S3 allows, whatever the answer says.
        let (Some(_), Some(_), Some(part_size), Some(part_count)) = (
            js::text(&multipart, "uploadId"),
            js::text(&multipart, "ticket"),
            number("partSize"),
            number("partCount").filter(|count| *count <= 10_000.0),
        ) else {
            return Err("a multipart upload lacks its id, ticket, part size, or 1 to 10,000 parts");
        };
        Upload::Multipart { spec: multipart, part_size, part_count: part_count as u32 }
    } else if put.is_object() {
        Upload::Put {
            url: js::text(&put, "url").ok_or("a PUT has no url")?,
            headers: js::get(&put, "headers"),
        }
    } else {
        let url = js::text(file, "url").ok_or("a file has no url")?;
        if !js::get(file, "fields").is_object() {
            return Err("a file has no fields");
        }
        Upload::Post { url, post: file.clone() }
    };
    Ok(Target { name, key, upload, checksum })
}

/// Reads the signer's answer for `count` files: its signature and each file's target; `Err` says
/// what does not follow the protocol.
pub fn from_sign_answer(answer: &JsValue, count: usize) -> Result<(String, Vec<Target>), &'static str> {
    let signature = js::text(answer, "signature").ok_or("it has no signature")?;
    let targets = js::get(answer, "files");
    if !Array::is_array(&targets) {
        return Err("it has no files");
    }
    if js::length(&targets) as usize != count {
        return Err("it signed another number of files than it was asked to");
    }
    let checksum = Checksum::from_answer(js::text(answer, "checksum").as_deref())?;
    let mut files = Vec::new();
    for file in js::items(&targets) {
        files.push(target(&file, checksum)?);
    }
    Ok((signature, files))
}

/// The instructions django-s3file rendered into `input` (see `presigned`) for `files`: its
/// signature and each file's target.
pub fn from_markup(input: &HtmlInputElement, files: &[File]) -> (String, Vec<Target>) {
    let attribute = |name: &str| input.get_attribute(name).unwrap_or_default();
    // The same fields for every file; the upload adds each file's `Content-Type`.
    let post = effects::markup_post(input);
    let key_template = js::text(&js::get(&post, "fields"), "key").unwrap_or_default();
    let url = attribute("data-url");
    let mut targets = Vec::new();
    for file in files {
        let name = js::name(file);
        let key = presigned::predicted_key(&key_template, &name);
        let upload = Upload::Post { url: url.clone(), post: post.clone().into() };
        // django-s3file's policies allow no checksum field.
        targets.push(Target { key, name, upload, checksum: Checksum::Off });
    }
    (attribute("data-s3f-signature"), targets)
}

/// What the attempt's state machine needs of a field's instructions.
pub fn signed(signature: String, targets: &[Target]) -> Signed {
    let expires_at = targets.first().and_then(Target::post).map(effects::policy_expiry);
    let expires_at = expires_at.filter(|time| !time.is_nan());
    let mut shapes = Vec::new();
    for target in targets {
        shapes.push(target.shape());
    }
    Signed { signature, expires_at, shapes }
}

#[cfg(test)]
mod tests {
    use super::Checksum;

    #[test]
    fn the_answer_names_the_checksum_and_older_answers_mean_crc32() {
        let cases = [
            (Some("md5"), Ok(Checksum::Md5)),
            (Some("crc32"), Ok(Checksum::Crc32)),
            (Some("off"), Ok(Checksum::Off)),
            (None, Ok(Checksum::Crc32)),
            (Some("sha256"), Err("it asks for an unknown checksum")),
            (Some("MD5"), Err("it asks for an unknown checksum")),
        ];
        for (value, expected) in cases {
            assert_eq!(Checksum::from_answer(value), expected, "{value:?}");
        }
    }
}
