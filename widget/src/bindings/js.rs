//! Building and reading plain JavaScript objects (event details, the sign request and
//! response). None of these throws, so none needs wasm-bindgen's exception handling.

use alloc::string::String;

use js_sys::Object;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = "
export const get = (object, key) => object?.[key];
export const set = (object, key, value) => { object[key] = value; };
export const length = (list) => list.length;
export const at = (list, index) => list[index];
export const name = (object) => object.name;
")]
extern "C" {
    /// `object[key]`; `undefined` when `object` is `null` or `undefined` (a sign answer that
    /// was not JSON).
    pub fn get(object: &JsValue, key: &str) -> JsValue;

    /// `object[key] = value` on a plain object.
    pub fn set(object: &Object, key: &str, value: &JsValue);

    /// `list.length` of an array or a `FileList`.
    pub fn length(list: &JsValue) -> u32;

    /// `list[index]` of an array or a `FileList`.
    pub fn at(list: &JsValue, index: u32) -> JsValue;

    /// The `name` of a `File` or an input.
    pub fn name(object: &JsValue) -> String;
}

/// The items of an array or a `FileList`, in order.
pub fn items(list: &JsValue) -> impl Iterator<Item = JsValue> + '_ {
    (0..length(list)).map(move |index| at(list, index))
}

/// `object[key]` when it is a string.
pub fn text(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}
