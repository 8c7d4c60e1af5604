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
    /// Sends `body` with `method` to `url`, with the header pairs `headers` (or none): with
    /// `json`, a request to the signer (JSON in and out); else an upload, whose progress events
    /// come back too and which is aborted when it makes no progress for `stall` ms. `undefined`
    /// when it could not be sent.
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(js_name = send)]
    fn send(
        method: &str,
        url: &str,
        headers: &JsValue,
        body: &JsValue,
        attempt: u32,
        call: u32,
        json: bool,
        stall: f64,
    ) -> Option<Xhr>;

    /// Detaches the request's listeners, then aborts it unless it is over.
    fn stop(xhr: &Xhr);
}

/// What a request (or a timer) does for its attempt; the number effects.js hands back with its
/// events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// Signs the files of the attempt's field with this index.
    Sign(usize),
    /// Sends part `.1` (1 for a file sent whole) of the attempt's file `.0`.
    Send(usize, u32),
    /// Asks the signer for the file's part URLs.
    Urls(usize),
    /// Asks the signer to complete the file's multipart upload.
    Complete(usize),
    /// A timer: part `.1` of file `.0` may be tried again; part 0, the file's request to the
    /// signer (part URLs, or completion).
    Wake(usize, u32),
    /// The browser is online again.
    Online,
}

/// Bits of a call's number: 3 for the kind, then 13 for the file or field, then 16 for the
/// part (S3 has at most 10,000).
const KIND_BITS: u32 = 3;
const INDEX_BITS: u32 = 13;

impl Call {
    /// The number effects.js keeps for the request.
    pub fn number(self) -> u32 {
        let (kind, index, part) = match self {
            Call::Sign(field) => (0, field, 0),
            Call::Send(file, part) => (1, file, part),
            Call::Urls(file) => (2, file, 0),
            Call::Complete(file) => (3, file, 0),
            Call::Wake(file, part) => (4, file, part),
            Call::Online => (5, 0, 0),
        };
        kind | (index as u32) << KIND_BITS | part << (KIND_BITS + INDEX_BITS)
    }

    /// The call `number` stands for.
    pub fn of(number: u32) -> Call {
        let index = (number >> KIND_BITS & ((1 << INDEX_BITS) - 1)) as usize;
        let part = number >> (KIND_BITS + INDEX_BITS);
        match number & ((1 << KIND_BITS) - 1) {
            0 => Call::Sign(index),
            1 => Call::Send(index, part),
            2 => Call::Urls(index),
            3 => Call::Complete(index),
            4 => Call::Wake(index, part),
            _ => Call::Online,
        }
    }
}

/// A request on its way. Dropping it before it is over aborts it without reporting anything,
/// so a stopped upload sends no more bytes and reports nothing.
pub struct Request {
    pub xhr: Xhr,
}

/// How long an upload may go without progress before it is abandoned as stalled.
pub struct Stall(pub f64);

impl Request {
    /// A JSON POST to the signer for `call` of the attempt numbered `attempt`; `None` when the
    /// browser refused to send it (a URL that does not parse, say). Its `loadend` event, which
    /// comes once whatever happened, reaches `page::answered`.
    pub fn json(url: &str, body: &JsValue, attempt: u32, call: Call) -> Option<Request> {
        let xhr = send("POST", url, &JsValue::UNDEFINED, body, attempt, call.number(), true, 0.0)?;
        Some(Request { xhr })
    }

    /// An upload: `body` sent with `method` and `headers`; its progress events come back too.
    pub fn upload(
        method: &str,
        url: &str,
        headers: &JsValue,
        body: &JsValue,
        attempt: u32,
        call: Call,
        stall: &Stall,
    ) -> Option<Request> {
        let xhr = send(method, url, headers, body, attempt, call.number(), false, stall.0)?;
        Some(Request { xhr })
    }

    /// The HTTP status of the answer; 0 when none came (network error, CORS, abort, stall).
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
        let calls = [
            Call::Sign(0),
            Call::Sign(3),
            Call::Send(0, 1),
            Call::Send(7, 10_000),
            Call::Send(8191, 65_535),
            Call::Urls(2),
            Call::Complete(4),
            Call::Wake(5, 0),
            Call::Wake(5, 9),
            Call::Online,
        ];
        for call in calls {
            assert_eq!(Call::of(call.number()), call);
        }
        assert_ne!(Call::Sign(1).number(), Call::Send(1, 0).number());
    }
}
