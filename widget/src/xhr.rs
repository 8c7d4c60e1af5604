//! `XMLHttpRequest` with Rust callbacks, aborted when dropped. XHR rather than `fetch` because
//! only XHR reports upload progress.

use wasm_bindgen::prelude::*;
use web_sys::XmlHttpRequest;

#[wasm_bindgen]
extern "C" {
    /// `xhr.send(body)` for any body (JSON text, `FormData`), where web-sys has one method per
    /// body type.
    #[wasm_bindgen(js_namespace = ["XMLHttpRequest", "prototype", "send"], js_name = call, catch)]
    fn send_body(xhr: &XmlHttpRequest, body: &JsValue) -> Result<(), JsValue>;
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
    pub xhr: XmlHttpRequest,
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
        prepare: impl FnOnce(&XmlHttpRequest),
        on_progress: Option<Handler>,
        on_end: Handler,
    ) -> Result<Request, JsValue> {
        let xhr = XmlHttpRequest::new()?;
        xhr.open("POST", url)?;
        prepare(&xhr);
        // Browsers only report upload progress to listeners registered before `send()`.
        if let Some(on_progress) = &on_progress {
            xhr.upload()?.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        }
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
        let request = Request { xhr, _on_end: on_end, _on_progress: on_progress };
        send_body(&request.xhr, body)?;
        Ok(request)
    }

    /// The HTTP status of the answer; 0 when none came (network error, CORS, abort).
    pub fn status(&self) -> u16 {
        self.xhr.status().unwrap_or(0)
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        // Detach the handlers first: `abort()` fires `loadend` at once, and the closures are
        // freed right after this.
        self.xhr.set_onloadend(None);
        if let Ok(upload) = self.xhr.upload() {
            upload.set_onprogress(None);
        }
        // `abort()` on a finished request would throw its response away; there is nothing to stop.
        if self.xhr.ready_state() != DONE {
            let _ = self.xhr.abort();
        }
    }
}
