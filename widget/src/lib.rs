//! s3file's browser widget: file inputs that opt in with `data-s3file` upload their files
//! straight to S3, and the form is then submitted with the S3 keys in their place.
//!
//! See ARCHITECTURE.md for the wire protocol. The modules without `web-sys` (`endpoint`,
//! `failure`, `join`, `progress`, `s3_response`, `submission`) hold the logic and are tested
//! with plain `cargo test`; the others are the thin shell around the DOM and XHR.

// No `std` in the browser: its panic machinery formats messages with `core::fmt`, which would
// be a third of the widget. Tests on the host use `std` as usual.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

mod endpoint;
mod events;
mod failure;
mod join;
mod js;
mod progress;
mod s3_response;
mod sign;
mod submission;
mod submit;
mod upload;
mod xhr;

use js_sys::{Object, WeakSet};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Document, HtmlFormElement, SubmitEvent};

#[wasm_bindgen]
extern "C" {
    /// The page's `document`, without web-sys's detour through `window`.
    #[wasm_bindgen(thread_local_v2, js_name = document)]
    static DOCUMENT: Document;
}

/// Runs when the module is instantiated.
#[wasm_bindgen(start)]
fn start() {
    // Forms whose files are being uploaded: another submit of one of them is ignored.
    let uploading = WeakSet::new();
    // One listener on the document serves every form, also forms added later, so there is
    // nothing to wait for or to upgrade. It runs after the forms' own `submit` listeners, so a
    // page script that cancels a submission (its own validation, say) has the last word.
    let on_submit = Closure::<dyn FnMut(SubmitEvent)>::new(move |event| on_submit(&uploading, event));
    let on_submit_function = on_submit.as_ref().unchecked_ref();
    let _ = DOCUMENT.with(|document| document.add_event_listener_with_callback("submit", on_submit_function));
    // It serves as long as the page lives.
    on_submit.forget();
}

fn on_submit(uploading: &WeakSet, event: SubmitEvent) {
    if event.default_prevented() {
        return;
    }
    let Some(form) = event.target().and_then(|target| target.dyn_into::<HtmlFormElement>().ok()) else {
        return;
    };
    if uploading.has(form.unchecked_ref::<Object>()) {
        event.prevent_default();
        return;
    }
    let fields = submit::fields_to_upload(&form);
    // Nothing to upload: the browser submits the form as usual.
    if fields.is_empty() {
        return;
    }
    event.prevent_default();
    // Marked now, not when the upload task first runs: a second submit in this same task (a
    // double click, two `requestSubmit()` calls) must find the form uploading.
    let uploading = submit::Uploading::start(uploading.clone(), &form);
    spawn_local(submit::upload_and_submit(uploading, form, event.submitter(), fields));
}

/// A panic is a bug: stop with a trap instead of formatting a message nobody reads.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Talc rather than the dlmalloc `std` brings: a fraction of the size.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
