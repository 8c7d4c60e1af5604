//! The page's side: the document's listeners, the JS API, and the state they share, which is
//! the forms being uploaded and what failed attempts left on each input.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{Event, File, HtmlFormElement, HtmlInputElement, NodeList, SubmitEvent};

use crate::attempt::{self, Fields, Shared, Then};
use crate::instructions::Instructions;
use crate::{live_region, native};

#[wasm_bindgen]
extern "C" {
    /// A document or an element.
    type ParentNode;
    #[wasm_bindgen(method, catch, js_name = querySelectorAll)]
    fn query_selector_all(this: &ParentNode, selectors: &str) -> Result<NodeList, JsValue>;
}

/// What a failed attempt left on one input for the next.
pub struct Retained {
    pub input: HtmlInputElement,
    /// The files it was for.
    pub files: Vec<File>,
    /// `None` when the input has to be signed afresh.
    pub instructions: Option<Rc<Instructions>>,
    /// The key of each file stored, in file order.
    pub keys: Vec<Option<String>>,
    /// Whether the input shows our validity message.
    pub message: bool,
}

struct Page {
    attempts: RefCell<Vec<(HtmlFormElement, Shared)>>,
    retained: RefCell<Vec<Retained>>,
}

struct PageCell(Page);

// SAFETY: the widget runs on the page's one thread (wasm32-unknown-unknown without atomics has
// no other); JS values cannot leave it, and this state is never touched off the browser.
unsafe impl Sync for PageCell {}

static PAGE: PageCell =
    PageCell(Page { attempts: RefCell::new(Vec::new()), retained: RefCell::new(Vec::new()) });

/// Runs `f` on a part of the page's state unless it is borrowed already (a page listener
/// re-entering the widget), in which case it is left alone.
fn with<T, R>(cell: &RefCell<T>, f: impl FnOnce(&mut T) -> R) -> Option<R> {
    Some(f(&mut *cell.try_borrow_mut().ok()?))
}

pub fn register(form: &HtmlFormElement, attempt: &Shared) {
    with(&PAGE.0.attempts, |attempts| attempts.push((form.clone(), attempt.clone())));
}

pub fn unregister(attempt: &Shared) {
    with(&PAGE.0.attempts, |attempts| attempts.retain(|(_, other)| !Rc::ptr_eq(other, attempt)));
}

fn attempt_of(form: &HtmlFormElement) -> Option<Shared> {
    with(&PAGE.0.attempts, |attempts| {
        attempts.iter().find(|(other, _)| other == form).map(|(_, attempt)| attempt.clone())
    })
    .flatten()
}

/// Takes what an earlier attempt left on `input`, and clears its message.
pub fn take_retained(input: &HtmlInputElement) -> Option<Retained> {
    let retained = with(&PAGE.0.retained, |all| {
        let index = all.iter().position(|retained| retained.input == *input)?;
        Some(all.swap_remove(index))
    })
    .flatten()?;
    if retained.message {
        input.set_custom_validity("");
    }
    Some(retained)
}

/// Keeps `retained` for the input's next attempt, and forgets inputs that left the page.
pub fn retain(retained: Retained) {
    with(&PAGE.0.retained, |all| {
        all.retain(|other| other.input != retained.input && other.input.is_connected());
        all.push(retained);
    });
}

/// Notes that `input` shows our validity message.
pub fn mark_message(input: &HtmlInputElement) {
    with(&PAGE.0.retained, |all| {
        if let Some(retained) = all.iter_mut().find(|retained| retained.input == *input) {
            retained.message = true;
        }
    });
}

/// Clears our validity messages on the inputs of `form`, so a new submission gets past the
/// browser's validation and retries what failed.
fn clear_messages(form: &HtmlFormElement) {
    with(&PAGE.0.retained, |all| {
        for retained in all.iter_mut().filter(|retained| retained.message) {
            if retained.input.form().as_ref() == Some(form) {
                retained.input.set_custom_validity("");
                retained.message = false;
            }
        }
    });
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
    // A second submit while the files upload (a double click) is ignored.
    if attempt_of(&form).is_some() {
        event.prevent_default();
        return;
    }
    let fields = Fields::of(&form);
    // Nothing to upload: the browser submits the form as usual.
    if fields.is_empty() {
        return;
    }
    event.prevent_default();
    attempt::start(&form, fields, Then::Submit(event.submitter()));
}

/// A click on a submit button clears our messages on its form's inputs before the browser
/// validates the form (the button's activation comes after the click's dispatch), so a
/// failed upload can be retried. Pressing Enter in a field clicks the form's default button.
fn on_click(event: &Event) {
    let Some(target) = event.target().and_then(|target| target.dyn_into::<web_sys::Element>().ok()) else {
        return;
    };
    let Ok(Some(button)) = target.closest("button,input[type=submit],input[type=image]") else {
        return;
    };
    if !native::is_submit_button(&button) {
        return;
    }
    if let Ok(form) = js_sys::Reflect::get(&button, &"form".into()).and_then(|form| form.dyn_into()) {
        clear_messages(&form);
    }
}

/// Other files chosen: what failed before concerns files that are gone.
fn on_change(event: &Event) {
    if let Some(input) = event.target().and_then(|target| target.dyn_into::<HtmlInputElement>().ok()) {
        take_retained(&input);
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
            live_region::region(&form);
        }
    }
}

/// Uploads the files of `form` and writes their keys into it, without submitting it. The
/// promise resolves to `{field: [key, …]}`, or rejects with an `Error` whose message is the
/// first failure's (an `AbortError` when `abort()` stopped it).
pub fn upload(form: &JsValue) -> Promise {
    let mut settle: Option<(Function, Function)> = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let Some((resolve, reject)) = settle else {
        return promise;
    };
    let fail = |message: &str| {
        let _ = reject.call1(&JsValue::UNDEFINED, &js_sys::Error::new(message));
    };
    let Some(form) = form.dyn_ref::<HtmlFormElement>() else {
        fail("upload() takes a form element");
        return promise;
    };
    if attempt_of(form).is_some() {
        fail("the form is uploading already");
        return promise;
    }
    let fields = Fields::of(form);
    if fields.is_empty() {
        let _ = resolve.call1(&JsValue::UNDEFINED, &Object::new());
        return promise;
    }
    attempt::start(form, fields, Then::Settle { resolve, reject });
    promise
}

/// Stops the uploads of `form`, if any, and hands the form back; answers whether there were
/// any. What was stored is kept: the next submission sends only the rest.
pub fn abort(form: &JsValue) -> bool {
    let Some(attempt) = form.dyn_ref::<HtmlFormElement>().and_then(attempt_of) else {
        return false;
    };
    attempt::abort(&attempt)
}
