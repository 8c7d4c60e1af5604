//! Building and reading plain JavaScript objects (event details, the sign request and response),
//! and calling the functions that settle the JS API's promises. None of these throws, so none
//! needs wasm-bindgen's exception handling.

use alloc::string::String;

use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = "
export const get = (object, key) => object?.[key];
export const set = (object, key, value) => { object[key] = value; };
export const call = (settle, value) => { settle(value); };
")]
extern "C" {
    /// `object[key]`; `undefined` when `object` is `null` or `undefined` (a sign answer that
    /// was not JSON).
    pub fn get(object: &JsValue, key: &str) -> JsValue;

    /// `object[key] = value` on a plain object.
    pub fn set(object: &Object, key: &str, value: &JsValue);

    /// `settle(value)`, for the functions that settle a promise.
    pub fn call(settle: &Function, value: &JsValue);
}

/// `object[key]` when it is a string.
pub fn text(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}
