//! `XMLHttpRequest` as an awaitable, cancel-on-drop request. XHR rather than `fetch` because only
//! XHR reports upload progress.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ProgressEvent, XmlHttpRequest};

#[wasm_bindgen]
extern "C" {
    /// `xhr.send(body)` for any body (JSON text, `FormData`), where web-sys has one method per
    /// body type.
    #[wasm_bindgen(js_namespace = ["XMLHttpRequest", "prototype", "send"], js_name = call, catch)]
    fn send_body(xhr: &XmlHttpRequest, body: &JsValue) -> Result<(), JsValue>;
}

const DONE: u16 = 4;

/// A POST request. Dropping it before the answer came aborts it, so when one upload fails the
/// others stop sending instead of finishing in the background.
pub struct Request {
    pub xhr: XmlHttpRequest,
    /// Kept alive as long as the request can call it.
    on_upload_progress: Option<Closure<dyn FnMut(ProgressEvent)>>,
}

impl Request {
    pub fn post(url: &str) -> Result<Request, JsValue> {
        let xhr = XmlHttpRequest::new()?;
        xhr.open("POST", url)?;
        Ok(Request { xhr, on_upload_progress: None })
    }

    /// Calls `handler` with every `progress` event of the request body. Set it before sending:
    /// browsers only report upload progress to listeners registered before `send()`.
    pub fn on_upload_progress(
        &mut self,
        handler: impl FnMut(ProgressEvent) + 'static,
    ) -> Result<(), JsValue> {
        let handler = Closure::<dyn FnMut(ProgressEvent)>::new(handler);
        self.xhr.upload()?.set_onprogress(Some(handler.as_ref().unchecked_ref()));
        self.on_upload_progress = Some(handler);
        Ok(())
    }

    /// Sends `body` and waits until the request is over. `Some` holds the XHR's `loadend` event
    /// and means an HTTP answer came, whatever its status; `None` means none came (network
    /// error, CORS, timeout, abort).
    pub async fn send(&self, body: &JsValue) -> Option<ProgressEvent> {
        // `loadend` comes last, after `load`, `error`, `abort` or `timeout`.
        let over = Promise::new(&mut |resolve, _| self.xhr.set_onloadend(Some(&resolve)));
        send_body(&self.xhr, body).ok()?;
        let event = JsFuture::from(over).await.ok()?;
        if self.status() == 0 {
            return None;
        }
        Some(event.unchecked_into())
    }

    /// The HTTP status of the answer; 0 when there is none.
    pub fn status(&self) -> u16 {
        self.xhr.status().unwrap_or(0)
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        // Detach the handler first: the closure is freed right after this and must never run.
        if let Ok(upload) = self.xhr.upload() {
            upload.set_onprogress(None);
        }
        // `abort()` on a finished request would throw its response away; there is nothing to stop.
        if self.xhr.ready_state() != DONE {
            let _ = self.xhr.abort();
        }
    }
}
