//! `XMLHttpRequest`s and timers whose events come back to the widget. XHR rather than `fetch`
//! because only XHR reports upload progress.
//!
//! Each request or timer gets a number; the attempt that made it keeps the number with what it
//! is for (`attempt::requests`). `widget/js/effects.js` sends the request, keeps it
//! by that number and owns its listeners, which call the widget's one entry point for these
//! events (`page::answered`) with the number. The widget holds no request: it stops them by
//! number ([`stop`]), so no Rust closure or JS object has to be kept alive, or freed, with one.
//!
//! Bound by hand: web-sys wraps every getter in a `Result`, though `status` and `response` never
//! throw.

use js_sys::Object;
use wasm_bindgen::prelude::*;

use crate::bindings::js;

#[wasm_bindgen]
extern "C" {
    /// A request that is over, as its `loadend` hands it back.
    #[wasm_bindgen(js_name = XMLHttpRequest)]
    pub type Xhr;

    /// 0 when no answer came (network error, CORS, abort, stall).
    #[wasm_bindgen(method, getter)]
    pub fn status(this: &Xhr) -> u16;

    /// The answer as `responseType` says (`null` for JSON that does not parse).
    #[wasm_bindgen(method, getter)]
    pub fn response(this: &Xhr) -> JsValue;

    /// Set by effects.js when the stall timeout passed while the file was still being read for
    /// its checksum: the request was never sent. Unset (false) otherwise.
    #[wasm_bindgen(method, getter, js_name = checksumStalled)]
    pub fn checksum_stalled(this: &Xhr) -> bool;

    /// Set by effects.js when the browser would not read the file for its checksum because it
    /// changed on disk since it was chosen, or is gone: the request was never sent. Unset
    /// (false) otherwise.
    #[wasm_bindgen(method, getter, js_name = fileChanged)]
    pub fn file_changed(this: &Xhr) -> bool;
}

#[wasm_bindgen(module = "/js/effects.js")]
extern "C" {
    /// Sends `transfer` (see [`Transfer`]) as request `request`: its progress events come back
    /// too, and it is aborted when it makes no progress for `transfer.stall` ms. `false` when it
    /// could not be sent (a URL that does not parse, say).
    #[wasm_bindgen(js_name = send)]
    fn send_transfer(request: u32, transfer: &Object) -> bool;

    /// A JSON POST of `body` to the signer at `url` as request `request`; the answer is parsed
    /// (`null` when it is not JSON). `false` when it could not be sent.
    pub fn ask(request: u32, url: &str, body: &JsValue) -> bool;

    /// Stops request `request`: its listeners are removed, then it is aborted. Nothing of it
    /// comes back.
    pub fn stop(request: u32);

    /// Reports `request`, a timer, in `ms` milliseconds.
    pub fn later(ms: f64, request: u32);

    /// Reports `request` once the browser is online.
    #[wasm_bindgen(js_name = whenOnline)]
    pub fn when_online(request: u32);

    /// `navigator.onLine`.
    #[wasm_bindgen(js_name = isOnline)]
    pub fn is_online() -> bool;
}

/// The checksum a transfer carries (see `upload`): effects.js computes it, and sends it as a
/// header with a PUT, as a form field before the file with a POST.
#[derive(Clone, Copy)]
pub enum Checksum {
    None,
    /// The MD5 of the body, as `Content-MD5`.
    Md5,
    /// The CRC-32 of the file, as `x-amz-checksum-crc32` (a POST's field only).
    Crc32,
}

/// An upload to the store, as effects.js `send` takes it.
pub struct Transfer<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// Header pairs, or `undefined`.
    pub headers: &'a JsValue,
    /// A `FormData` (a POST) or a `Blob` (a PUT).
    pub body: &'a JsValue,
    /// Milliseconds without progress after which it is abandoned.
    pub stall: f64,
    pub checksum: Checksum,
}

impl Transfer<'_> {
    /// Sends it as request `request`; `false` when it could not be sent.
    pub fn send(&self, request: u32) -> bool {
        let transfer = Object::new();
        js::set(&transfer, "method", &self.method.into());
        js::set(&transfer, "url", &self.url.into());
        js::set(&transfer, "headers", self.headers);
        js::set(&transfer, "body", self.body);
        js::set(&transfer, "stall", &self.stall.into());
        let checksum = match self.checksum {
            Checksum::None => None,
            Checksum::Md5 => Some("Content-MD5"),
            Checksum::Crc32 => Some("x-amz-checksum-crc32"),
        };
        if let Some(checksum) = checksum {
            js::set(&transfer, "checksum", &checksum.into());
        }
        send_transfer(request, &transfer)
    }
}
