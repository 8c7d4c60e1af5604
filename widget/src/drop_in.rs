//! The drop-in script: `<script type="module" src="/pkg/s3file.js">` starts the widget, and the
//! module exports the JS API (see `widget/js/s3file.d.ts`).

use wasm_bindgen::prelude::*;
use web_sys::Event;

use crate::{page, DOCUMENT};

/// Runs when the module is instantiated: one listener on the document serves every form, also
/// forms and inputs added later, so nothing needs to watch the page for them.
#[wasm_bindgen(start)]
fn start() {
    let listener = Closure::<dyn FnMut(Event)>::new(page::on_document_event);
    let function = listener.as_ref().unchecked_ref();
    DOCUMENT.with(|document| {
        let _ = document.add_event_listener_with_callback("submit", function);
        // Capturing, to see clicks on submit buttons before the browser validates their form.
        let _ = document.add_event_listener_with_callback_and_bool("click", function, true);
        let _ = document.add_event_listener_with_callback("change", function);
    });
    // It serves as long as the page lives.
    listener.forget();
    page::upgrade(&JsValue::UNDEFINED);
}

/// `upgrade(root?)`: prepares the forms under `root` (default: the document), see
/// [`page::upgrade`].
#[wasm_bindgen]
pub fn upgrade(root: JsValue) {
    page::upgrade(&root);
}

/// `upload(form)`: uploads the form's files and writes their keys into it without submitting
/// it, see [`page::upload`].
#[wasm_bindgen]
pub fn upload(form: JsValue) -> js_sys::Promise {
    page::upload(&form)
}

/// `abort(form)`: stops the form's uploads and hands the form back, see [`page::abort`].
#[wasm_bindgen]
pub fn abort(form: JsValue) -> bool {
    page::abort(&form)
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
