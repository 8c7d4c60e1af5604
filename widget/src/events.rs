//! The widget's events, its API for the page (see ARCHITECTURE.md, "Widget events").
//!
//! - `progress`, as django-s3file 7 dispatches it: on the form, then on the input, not bubbling,
//!   with `detail` `progress`, `loaded` and `total` (of all the form's files on the form, of the
//!   input's files on the input), `currentFile`, `currentFileName`, `currentFileProgress` and
//!   `originalEvent` (the XHR's `ProgressEvent`). One per upload progress event, and one when
//!   each file is stored.
//! - Our own, all bubbling: `s3file:start` on the form (`detail` `files`, `total`),
//!   `s3file:done` on the input for each stored file (`key`, `name`, `size`, `field`) and
//!   `s3file:error` on the input for each failure (`message`, `field`, `fileName`, which is
//!   `null` when the failure concerns all the input's files).

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, EventTarget, File};

use crate::js;
use crate::progress::Progress;

/// Dispatches `progress` with django-s3file's `detail` on `target`, the form or an input.
pub fn progress(
    target: &EventTarget,
    progress: Progress,
    file: &File,
    file_progress: f64,
    original: &JsValue,
) {
    let detail = js::object(&[
        ("progress", progress.progress.into()),
        ("loaded", progress.loaded.into()),
        ("total", progress.total.into()),
        ("currentFile", file.into()),
        ("currentFileName", file.name().into()),
        ("currentFileProgress", file_progress.into()),
        ("originalEvent", original.clone()),
    ]);
    dispatch(target, "progress", false, detail.into());
}

/// Dispatches `s3file:start` on the form whose files start uploading.
pub fn start(form: &EventTarget, files: usize, total: f64) {
    let detail = js::object(&[("files", (files as f64).into()), ("total", total.into())]);
    dispatch(form, "s3file:start", true, detail.into());
}

/// Dispatches `s3file:done` on the input one of whose files is stored under `key`.
pub fn done(input: &EventTarget, key: &str, file: &File, field: &str) {
    let detail = js::object(&[
        ("key", key.into()),
        ("name", file.name().into()),
        ("size", file.size().into()),
        ("field", field.into()),
    ]);
    dispatch(input, "s3file:done", true, detail.into());
}

/// Dispatches `s3file:error` on the input whose upload failed. `file_name` is `None` when the
/// failure concerns all files of the input.
pub fn error(input: &EventTarget, message: &str, field: &str, file_name: Option<&str>) {
    let detail = js::object(&[
        ("message", message.into()),
        ("field", field.into()),
        ("fileName", file_name.map_or(JsValue::NULL, JsValue::from)),
    ]);
    dispatch(input, "s3file:error", true, detail.into());
}

fn dispatch(target: &EventTarget, name: &str, bubbles: bool, detail: JsValue) {
    let init = js::object(&[("bubbles", bubbles.into()), ("detail", detail)]);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(name, init.unchecked_ref()) {
        // Fails only for an event that is already being dispatched; exceptions thrown by
        // listeners are reported by the browser, not here.
        let _ = target.dispatch_event(&event);
    }
}
