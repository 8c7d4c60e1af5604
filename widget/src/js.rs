//! Building and reading plain JavaScript objects: event details, the sign request and response.

use alloc::string::String;

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

/// `object[key] = value` on a plain object.
pub fn set(object: &Object, key: &JsValue, value: &JsValue) {
    // Cannot fail on a plain object.
    let _ = Reflect::set(object, key, value);
}

/// `object[key]`, `undefined` when `object` is not an object.
pub fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `object[key]` when it is a string.
pub fn text(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}
