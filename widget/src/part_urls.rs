//! The part URLs of an attempt's multipart uploads: `{n, url, headers}` as the signer's answers to
//! `/s3file/parts` give them, by file and part number. They go to the request as they came,
//! without a stop in Rust.

use alloc::vec::Vec;

use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::bindings::js;

/// For each file, its parts' URLs by part number less one.
#[derive(Default)]
pub struct PartUrls(Vec<Vec<Option<JsValue>>>);

impl PartUrls {
    /// Makes room for the `count` parts of `file`, a multipart upload.
    pub fn expect(&mut self, file: usize, count: u32) {
        if self.0.len() <= file {
            self.0.resize_with(file + 1, Vec::new);
        }
        if let Some(urls) = self.0.get_mut(file) {
            *urls = (0..count).map(|_| None).collect();
        }
    }

    /// Keeps the part URLs of the signer's `answer` for `file`, in place of earlier ones for the
    /// same parts; parts it does not name keep theirs. Answers the numbers of the parts kept.
    pub fn keep(&mut self, file: usize, answer: &JsValue) -> Vec<u32> {
        let mut kept = Vec::new();
        let parts = js::get(answer, "parts");
        let Some(urls) = self.0.get_mut(file).filter(|_| Array::is_array(&parts)) else { return kept };
        for part in js::items(&parts) {
            let Some(number) = js::get(&part, "n").as_f64().filter(|number| *number >= 1.0) else { continue };
            if let Some(slot) = urls.get_mut(number as usize - 1) {
                *slot = Some(part);
                kept.push(number as u32);
            }
        }
        kept
    }

    /// The kept `{url, headers}` of part `number` of `file`, else `undefined`.
    pub fn get(&self, file: usize, number: u32) -> JsValue {
        let index = (number as usize).wrapping_sub(1);
        self.0.get(file).and_then(|urls| urls.get(index)?.clone()).unwrap_or(JsValue::UNDEFINED)
    }
}
