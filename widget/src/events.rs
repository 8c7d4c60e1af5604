//! The widget's events, its API for the page (see ARCHITECTURE.md, "Widget events"). Both
//! bubble, so a listener on the form also hears its inputs' events: `event.target` tells which.
//!
//! - `progress`, on the input and then on its form, with django-s3file's `detail`: `progress`,
//!   `loaded` and `total` of the input's files or of all the form's files, and `currentFile`,
//!   `currentFileName`, `currentFileProgress`, `originalEvent` (the XHR's `ProgressEvent`). One
//!   per upload progress event, and one when each file is stored.
//! - `s3file:error`, on the input whose files could not be uploaded, with `detail` `message`,
//!   `field` (the input's name) and `fileName` (`null` when signing failed).

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, EventTarget, File, ProgressEvent};

use crate::js;
use crate::progress::Progress;

/// Dispatches `progress` with django-s3file's `detail` on `target`, an input or its form.
pub fn progress(
    target: &EventTarget,
    progress: Progress,
    file: &File,
    file_progress: f64,
    original: &ProgressEvent,
) {
    let detail = js::object(&[
        ("progress", progress.progress.into()),
        ("loaded", progress.loaded.into()),
        ("total", progress.total.into()),
        ("currentFile", file.into()),
        ("currentFileName", js::get(file, "name")),
        ("currentFileProgress", file_progress.into()),
        ("originalEvent", original.into()),
    ]);
    dispatch(target, "progress", &detail);
}

/// Dispatches `s3file:error` on `target`, the input whose upload failed. `file_name` is `None`
/// when the failure concerns all files of the input.
pub fn error(target: &EventTarget, message: &str, field: &str, file_name: Option<&str>) {
    let detail = js::object(&[
        ("message", message.into()),
        ("field", field.into()),
        ("fileName", file_name.map_or(JsValue::NULL, JsValue::from)),
    ]);
    dispatch(target, "s3file:error", &detail);
}

fn dispatch(target: &EventTarget, name: &str, detail: &JsValue) {
    let init = js::object(&[("bubbles", true.into()), ("detail", detail.clone())]);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(name, init.unchecked_ref()) {
        // Fails only for an event that is already being dispatched; exceptions thrown by
        // listeners are reported by the browser, not here.
        let _ = target.dispatch_event(&event);
    }
}
