//! `XMLHttpRequest` with Rust callbacks, aborted when dropped. XHR rather than `fetch` because
//! only XHR reports upload progress.
//!
//! Bound by hand: web-sys wraps every getter in a `Result`, though `status`, `response` and
//! `readyState` never throw.

use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = XMLHttpRequest)]
    pub type Xhr;

    #[wasm_bindgen(constructor, js_class = "XMLHttpRequest")]
    fn new() -> Xhr;

    /// Throws for a URL that does not parse.
    #[wasm_bindgen(method, catch)]
    fn open(this: &Xhr, method: &str, url: &str) -> Result<(), JsValue>;

    /// Throws when the request cannot be sent (a page in the back-forward cache, say).
    #[wasm_bindgen(method, catch)]
    fn send(this: &Xhr, body: &JsValue) -> Result<(), JsValue>;

    /// Of a valid header, before `send()`.
    #[wasm_bindgen(method, js_name = setRequestHeader)]
    pub fn set_request_header(this: &Xhr, name: &str, value: &str);

    #[wasm_bindgen(method, setter = responseType)]
    pub fn set_response_type(this: &Xhr, kind: &str);

    /// 0 until an answer came.
    #[wasm_bindgen(method, getter)]
    fn status(this: &Xhr) -> u16;

    /// The answer as `responseType` says (`null` for JSON that does not parse).
    #[wasm_bindgen(method, getter)]
    pub fn response(this: &Xhr) -> JsValue;

    #[wasm_bindgen(method, getter = readyState)]
    fn ready_state(this: &Xhr) -> u16;

    #[wasm_bindgen(method)]
    fn abort(this: &Xhr);

    #[wasm_bindgen(method, setter)]
    fn set_onloadend(this: &Xhr, handler: Option<&Function>);

    #[wasm_bindgen(method, getter)]
    fn upload(this: &Xhr) -> XhrUpload;

    type XhrUpload;

    #[wasm_bindgen(method, setter)]
    fn set_onprogress(this: &XhrUpload, handler: Option<&Function>);
}

const DONE: u16 = 4;

/// A handler of XHR events. One closure type for all, so the widget carries one set of glue.
pub type Handler = Closure<dyn FnMut(JsValue)>;

/// Wraps `handler` for the browser.
pub fn handler(handler: impl FnMut(JsValue) + 'static) -> Handler {
    Closure::<dyn FnMut(JsValue)>::new(handler)
}

/// A POST request on its way. Dropping it before it is over aborts it without calling its
/// handlers, so a stopped upload sends no more bytes and reports nothing.
pub struct Request {
    pub xhr: Xhr,
    /// Kept alive as long as the request can call them.
    _on_end: Handler,
    _on_progress: Option<Handler>,
}

impl Request {
    /// POSTs `body` to `url` after `prepare` has set headers or the response type. `on_end`
    /// gets the XHR's `loadend` event, which comes once whatever happened; `on_progress` gets
    /// the `progress` events of the request body.
    pub fn post(
        url: &str,
        body: &JsValue,
        prepare: impl FnOnce(&Xhr),
        on_progress: Option<Handler>,
        on_end: Handler,
    ) -> Result<Request, JsValue> {
        let xhr = Xhr::new();
        xhr.open("POST", url)?;
        prepare(&xhr);
        // Browsers only report upload progress to listeners registered before `send()`.
        if let Some(on_progress) = &on_progress {
            xhr.upload().set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        }
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
        let request = Request { xhr, _on_end: on_end, _on_progress: on_progress };
        request.xhr.send(body)?;
        Ok(request)
    }

    /// The HTTP status of the answer; 0 when none came (network error, CORS, abort).
    pub fn status(&self) -> u16 {
        self.xhr.status()
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        // Detach the handlers first: `abort()` fires `loadend` at once, and the closures are
        // freed right after this.
        self.xhr.set_onloadend(None);
        self.xhr.upload().set_onprogress(None);
        // `abort()` on a finished request would throw its response away; there is nothing to stop.
        if self.xhr.ready_state() != DONE {
            self.xhr.abort();
        }
    }
}
