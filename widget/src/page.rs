//! The page's side: the document's listeners, the JS API, and the state they share: the
//! attempts of the page's forms, those running and those that failed (kept for the next).

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlFormElement, HtmlInputElement, NodeList, SubmitEvent};

use crate::attempt::{self, with, Fields, Shared, Then};
use crate::{dom, effects};

#[wasm_bindgen]
extern "C" {
    /// A document or an element.
    type ParentNode;
    #[wasm_bindgen(method, catch, js_name = querySelectorAll)]
    fn query_selector_all(this: &ParentNode, selectors: &str) -> Result<NodeList, JsValue>;
}

/// The attempts of the page's forms, at most one per form.
struct Attempts(RefCell<Vec<(HtmlFormElement, Shared)>>);

// SAFETY: the widget runs on the page's one thread (wasm32-unknown-unknown without atomics has
// no other); JS values cannot leave it, and this state is never touched off the browser.
unsafe impl Sync for Attempts {}

static ATTEMPTS: Attempts = Attempts(RefCell::new(Vec::new()));

/// Runs `f` on the attempts unless they are borrowed already (a page listener re-entering the
/// widget), in which case they are left alone.
fn attempts<R>(f: impl FnOnce(&mut Vec<(HtmlFormElement, Shared)>) -> R) -> Option<R> {
    Some(f(&mut *ATTEMPTS.0.try_borrow_mut().ok()?))
}

/// Makes `attempt` the attempt of its form, in place of any earlier one, and forgets the
/// attempts of forms that left the page.
pub fn register(attempt: &Shared) {
    let Some(form) = with(attempt, |state| state.form.clone()) else { return };
    attempts(|all| {
        all.retain(|(other, _)| *other != form && other.is_connected());
        all.push((form, attempt.clone()));
    });
}

pub fn unregister(attempt: &Shared) {
    attempts(|all| all.retain(|(_, other)| !Rc::ptr_eq(other, attempt)));
}

/// The form's attempt: running, or failed and kept for the next.
fn attempt_of(form: &HtmlFormElement) -> Option<Shared> {
    attempts(|all| all.iter().find(|(other, _)| other == form).map(|(_, attempt)| attempt.clone())).flatten()
}

/// Whether `attempt` is still running.
fn running(attempt: &Shared) -> bool {
    attempt.try_borrow().map_or(true, |state| !state.over)
}

/// The document's listener for `submit`, `click` (capturing) and `change`, one for all three.
pub fn on_document_event(event: Event) {
    match event.type_().as_str() {
        "submit" => on_submit(event.unchecked_into()),
        "click" => on_click(&event),
        _ => on_change(&event),
    }
}

/// A form is submitted: if it has files to upload, the submission waits for them. It runs
/// after the forms' own `submit` listeners, so a page script that cancels a submission (its own
/// validation, say) has the last word, and after the browser's validation, which comes before
/// the event.
fn on_submit(event: SubmitEvent) {
    if event.default_prevented() {
        return;
    }
    let Some(form) = event.target().and_then(|target| target.dyn_into::<HtmlFormElement>().ok()) else {
        return;
    };
    let earlier = attempt_of(&form);
    // A second submit while the files upload (a double click) is ignored.
    if earlier.as_ref().is_some_and(running) {
        event.prevent_default();
        return;
    }
    let fields = Fields::of(&form);
    // Nothing to upload: the browser submits the form as usual.
    if fields.is_empty() {
        return;
    }
    event.prevent_default();
    attempt::start(&form, fields, Then::Submit(event.submitter()), earlier);
}

/// A click on a submit button clears our messages on its form's inputs before the browser
/// validates the form (the button's activation comes after the click's dispatch), so a
/// failed upload can be retried. Pressing Enter in a field clicks the form's default button.
fn on_click(event: &Event) {
    let Some(target) = event.target().and_then(|target| target.dyn_into::<Element>().ok()) else {
        return;
    };
    let Some(button) = dom::closest(&target, "button,input[type=submit],input[type=image]") else {
        return;
    };
    if !matches!(crate::js::text(&button, "type").as_deref(), Some("submit" | "image")) {
        return;
    }
    if let Some(attempt) = crate::js::get(&button, "form").dyn_into().ok().as_ref().and_then(attempt_of) {
        with(&attempt, attempt::Attempt::clear_messages);
    }
}

/// Other files chosen: what failed before concerns files that are gone.
fn on_change(event: &Event) {
    let Some(input) = event.target().and_then(|target| target.dyn_into::<HtmlInputElement>().ok()) else {
        return;
    };
    if let Some(attempt) = input.form().as_ref().and_then(attempt_of) {
        with(&attempt, |state| state.forget(&input));
    }
}

/// Prepares the forms with upgraded file inputs under `root` (the document when `undefined`):
/// adds each one's live region before anything is announced in it. Inputs and forms added
/// later work without it; it only makes their first announcement reliable.
pub fn upgrade(root: &JsValue) {
    let root = if root.is_undefined() || root.is_null() {
        crate::DOCUMENT.with(|document| JsValue::from(document))
    } else {
        root.clone()
    };
    let Ok(inputs) = root.unchecked_ref::<ParentNode>().query_selector_all("input[type=file]") else {
        return;
    };
    for index in 0..inputs.length() {
        let Some(input) = inputs.item(index) else { continue };
        let input: HtmlInputElement = input.unchecked_into();
        let Some(form) = input.form() else { continue };
        if attempt::sign_url(&input, form.get_attribute("data-s3file").as_deref()).is_some() {
            effects::prepare_live_region(&form);
        }
    }
}

/// Uploads the files of `form` and writes their keys into it, without submitting it. The
/// promise resolves to `{field: [key, …]}`, or rejects with an `Error` whose message is the
/// first failure's (an `AbortError` when `abort()` stopped it).
pub fn upload(form: &JsValue) -> Promise {
    let mut settle: Option<(Function, Function)> = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let Some((resolve, reject)) = settle else { return promise };
    let Some(form) = form.dyn_ref::<HtmlFormElement>() else {
        let _ = reject.call1(&JsValue::UNDEFINED, &js_sys::Error::new("upload() takes a form element"));
        return promise;
    };
    let earlier = attempt_of(form);
    if earlier.as_ref().is_some_and(running) {
        let _ = reject.call1(&JsValue::UNDEFINED, &js_sys::Error::new("the form is uploading already"));
        return promise;
    }
    let fields = Fields::of(form);
    if fields.is_empty() {
        let _ = resolve.call1(&JsValue::UNDEFINED, &Object::new());
        return promise;
    }
    attempt::start(form, fields, Then::Settle { resolve, reject }, earlier);
    promise
}

/// Stops the uploads of `form`, if any, and hands the form back; answers whether there were
/// any. What was stored is kept: the next submission sends only the rest.
pub fn abort(form: &JsValue) -> bool {
    form.dyn_ref::<HtmlFormElement>().and_then(attempt_of).is_some_and(|attempt| attempt::abort(&attempt))
}
