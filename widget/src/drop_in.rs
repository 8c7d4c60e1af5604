//! The drop-in script: `<script type="module" src="/pkg/s3file.js">` starts the widget (its
//! listeners are in `widget/js/s3file.js`), and the module exports the JS API (see
//! `widget/js/s3file.d.ts`).

use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

use crate::page;

// The document's listeners are in `widget/js/s3file.js`, which calls these three. One listener
// per event on the document serves every form, also forms and inputs added later, so nothing
// needs to watch the page for them.

/// `submit` on the document: answers whether the listener must cancel the event, the widget
/// taking the submission over. See [`page::submitted`].
#[wasm_bindgen]
pub fn submitted(form: JsValue, submitter: Option<HtmlElement>) -> bool {
    page::submitted(&form, submitter)
}

/// A click on a submit button of `form`, seen while capturing. See [`page::clicked`].
#[wasm_bindgen]
pub fn clicked(form: JsValue) {
    page::clicked(&form);
}

/// `change` on the document. See [`page::changed`].
#[wasm_bindgen]
pub fn changed(input: JsValue) {
    page::changed(&input);
}

/// An event of one of the widget's requests or timers, from effects.js. See [`page::answered`].
#[wasm_bindgen]
pub fn answered(request: u32, event: JsValue, xhr: Option<crate::bindings::xhr::Xhr>, sent: f64) {
    page::answered(request, event, xhr, sent);
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

/// lol_alloc's free list rather than the dlmalloc `std` brings: a fraction of the size.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: wasm32-unknown-unknown without atomics runs the widget on one thread.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
