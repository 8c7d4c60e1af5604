//! `XMLHttpRequest`s whose events come back to the widget. XHR rather than `fetch` because only
//! XHR reports upload progress.
//!
//! `widget/js/effects.js` sends the request, keeps it and owns its listeners, which call the
//! widget's one entry point for XHR events (`page::answered`) with the numbers the request was
//! sent with: the attempt's, and the request's (a [`Call`]). The widget holds no request: it
//! stops them by those numbers ([`stop_requests`]), so no Rust closure or JS object has to be kept
//! alive, or freed, with a request.
//!
//! Bound by hand: web-sys wraps every getter in a `Result`, though `status` and `response` never
//! throw.

use wasm_bindgen::prelude::*;

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
}

#[wasm_bindgen(module = "/js/effects.js")]
extern "C" {
    /// Sends `body` with `method` to `url`, with the header pairs `headers` (or none), as `call`
    /// of the attempt numbered `attempt`: an upload, whose progress events come back too and
    /// which is aborted when it makes no progress for `stall` ms; with `stall` 0, a request to
    /// the signer (JSON in and out). With a `checksum` (a [`Checksum`]), it reads the
    /// file for it first. Its `loadend` comes back once, whatever happened. `false` when it
    /// could not be sent (a URL that does not parse, say).
    #[allow(clippy::too_many_arguments)]
    fn send(
        method: &str,
        url: &str,
        headers: &JsValue,
        body: &JsValue,
        attempt: u32,
        call: u32,
        stall: f64,
        checksum: u8,
    ) -> bool;

    /// Stops the requests of the attempt numbered `attempt` whose call number, masked with
    /// `mask`, is `call`: their listeners are removed, then they are aborted. Nothing of them
    /// comes back.
    fn stop(attempt: u32, call: u32, mask: u32);
}

/// How a transfer carries its checksum (effects.js `send`).
#[derive(Clone, Copy)]
pub enum Checksum {
    None = 0,
    /// The MD5 of the body, as the header `Content-MD5`.
    Md5Header = 1,
    /// The CRC-32 of the file, as the form field `x-amz-checksum-crc32` before it.
    Crc32Field = 2,
}

/// What a request (or a timer) does for its attempt; the number effects.js hands back with its
/// events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// Sends part `.1` (1 for a file sent whole) of the attempt's file `.0`.
    Send(usize, u32),
    /// Asks the signer for the file's part URLs.
    Urls(usize),
    /// Asks the signer to complete the file's multipart upload.
    Complete(usize),
    /// Signs the files of the attempt's field with this index.
    Sign(usize),
    /// A timer: part `.1` of file `.0` may be tried again; part 0, the file's request to the
    /// signer (part URLs, or completion).
    Wake(usize, u32),
    /// The browser is online again.
    Online,
}

/// Bits of a call's number: 3 for the kind, then 13 for the file or field, then 16 for the
/// part (S3 has at most 10,000). The kinds of a file's requests (`Send`, `Urls`, `Complete`)
/// are below 4, so one mask finds them all.
const KIND_BITS: u32 = 3;
const INDEX_BITS: u32 = 13;
const FILE_MASK: u32 = 4 | ((1 << INDEX_BITS) - 1) << KIND_BITS;

impl Call {
    /// The number effects.js keeps for the request. Inlined: each call site knows its kind.
    #[inline(always)]
    pub fn number(self) -> u32 {
        let (kind, index, part) = match self {
            Call::Send(file, part) => (0, file, part),
            Call::Urls(file) => (1, file, 0),
            Call::Complete(file) => (2, file, 0),
            Call::Sign(field) => (4, field, 0),
            Call::Wake(file, part) => (5, file, part),
            Call::Online => (6, 0, 0),
        };
        kind | (index as u32) << KIND_BITS | part << (KIND_BITS + INDEX_BITS)
    }

    /// The call `number` stands for.
    pub fn of(number: u32) -> Call {
        let index = (number >> KIND_BITS & ((1 << INDEX_BITS) - 1)) as usize;
        let part = number >> (KIND_BITS + INDEX_BITS);
        match number & ((1 << KIND_BITS) - 1) {
            0 => Call::Send(index, part),
            1 => Call::Urls(index),
            2 => Call::Complete(index),
            4 => Call::Sign(index),
            5 => Call::Wake(index, part),
            _ => Call::Online,
        }
    }

    /// Sends the request for this call of the attempt numbered `attempt`; see [`send`].
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        self,
        attempt: u32,
        method: &str,
        url: &str,
        headers: &JsValue,
        body: &JsValue,
        stall: f64,
        checksum: Checksum,
    ) -> bool {
        send(method, url, headers, body, attempt, self.number(), stall, checksum as u8)
    }

    /// A JSON POST of `body` to the signer at `url`.
    pub fn ask(self, attempt: u32, url: &str, body: &JsValue) -> bool {
        self.send(attempt, "POST", url, &JsValue::UNDEFINED, body, 0.0, Checksum::None)
    }
}

/// Stops every request of `file` of the attempt numbered `attempt` (its transfers, and its
/// request to the signer), or, without `file`, every request of the attempt.
pub fn stop_requests(attempt: u32, file: Option<usize>) {
    match file {
        Some(file) => stop(attempt, Call::Send(file, 0).number(), FILE_MASK),
        None => stop(attempt, 0, 0),
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

    #[test]
    fn the_file_mask_finds_the_requests_of_one_file_only() {
        let of_file = |call: Call| call.number() & FILE_MASK == Call::Send(5, 0).number();
        for call in [Call::Send(5, 1), Call::Send(5, 10_000), Call::Urls(5), Call::Complete(5)] {
            assert!(of_file(call), "{call:?}");
        }
        for call in [Call::Send(4, 1), Call::Urls(6), Call::Sign(5), Call::Wake(5, 1), Call::Online] {
            assert!(!of_file(call), "{call:?}");
        }
    }
}
