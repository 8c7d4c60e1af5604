//! `XMLHttpRequest`s whose events come back to the widget, aborted when dropped. XHR rather than
//! `fetch` because only XHR reports upload progress.
//!
//! `widget/js/effects.js` sends the request and owns its listeners, which call the widget's one
//! entry point for XHR events (`page::answered`) with the numbers the request was sent with: the
//! attempt's, and the request's (a [`Call`]). No Rust closure is handed to the browser, so none
//! has to be kept alive, or freed, with the request.
//!
//! Bound by hand: web-sys wraps every getter in a `Result`, though `status` and `response` never
//! throw.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = XMLHttpRequest)]
    pub type Xhr;

    /// 0 until an answer came.
    #[wasm_bindgen(method, getter)]
    fn status(this: &Xhr) -> u16;

    /// The answer as `responseType` says (`null` for JSON that does not parse).
    #[wasm_bindgen(method, getter)]
    pub fn response(this: &Xhr) -> JsValue;
}

#[wasm_bindgen(module = "/js/effects.js")]
extern "C" {
    /// POSTs `body` to `url`: as a sign request (JSON in and out) with `sign`, else as an upload
    /// whose progress events come back too. `undefined` when it could not be sent.
    #[wasm_bindgen(js_name = post)]
    fn send(url: &str, body: &JsValue, attempt: u32, call: u32, sign: bool) -> Option<Xhr>;

    /// Detaches the request's listeners, then aborts it unless it is over.
    fn stop(xhr: &Xhr);
}

/// What a request does for its attempt; the number effects.js hands back with its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// Signs the files of the attempt's field with this index.
    Sign(usize),
    /// Uploads the attempt's file with this number.
    Upload(usize),
}

impl Call {
    /// The number effects.js keeps for the request.
    pub fn number(self) -> u32 {
        match self {
            Call::Sign(field) => (field as u32) << 1,
            Call::Upload(file) => (file as u32) << 1 | 1,
        }
    }

    /// The call `number` stands for.
    pub fn of(number: u32) -> Call {
        let index = (number >> 1) as usize;
        if number & 1 == 0 {
            Call::Sign(index)
        } else {
            Call::Upload(index)
        }
    }
}

/// A POST request on its way. Dropping it before it is over aborts it without reporting
/// anything, so a stopped upload sends no more bytes and reports nothing.
pub struct Request {
    pub xhr: Xhr,
}

impl Request {
    /// POSTs `body` to `url` for `call` of the attempt numbered `attempt`; `None` when the
    /// browser refused to send it (a URL that does not parse, say). Its `loadend` event, which
    /// comes once whatever happened, and an upload's progress events reach `page::answered`.
    pub fn post(url: &str, body: &JsValue, attempt: u32, call: Call) -> Option<Request> {
        let xhr = send(url, body, attempt, call.number(), matches!(call, Call::Sign(_)))?;
        Some(Request { xhr })
    }

    /// The HTTP status of the answer; 0 when none came (network error, CORS, abort).
    pub fn status(&self) -> u16 {
        self.xhr.status()
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        stop(&self.xhr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_survive_their_numbers() {
        for call in [Call::Sign(0), Call::Sign(3), Call::Upload(0), Call::Upload(7), Call::Upload(40_000)] {
            assert_eq!(Call::of(call.number()), call);
        }
        assert_ne!(Call::Sign(1).number(), Call::Upload(1).number());
    }
}
