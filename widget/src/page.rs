//! The page's side: what the document's listeners and the JS API do, and the state they share:
//! the attempts of the page's forms, those running and those that failed (kept for the next).

use alloc::vec::Vec;
use core::cell::{RefCell, RefMut};

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{HtmlElement, HtmlFormElement, HtmlInputElement};

use crate::attempt::{self, Attempt, Then};
use crate::bindings::xhr::Xhr;
use crate::bindings::{effects, js};

/// The attempts of the page's forms, at most one per form.
struct Attempts(RefCell<Vec<Attempt>>);

// SAFETY: the widget runs on the page's one thread (wasm32-unknown-unknown without atomics has
// no other); JS values cannot leave it, and this state is never touched off the browser.
unsafe impl Sync for Attempts {}

static ATTEMPTS: Attempts = Attempts(RefCell::new(Vec::new()));

/// The attempts, unless they are borrowed already (a page listener re-entering the widget in a
/// way it does not expect), in which case they are left alone. No page code runs while they
/// are borrowed: `widget/js/effects.js` runs what the page sees once the widget has returned.
fn attempts() -> Option<RefMut<'static, Vec<Attempt>>> {
    ATTEMPTS.0.try_borrow_mut().ok()
}

/// The attempt of `form`: running, or failed and kept for the next (see [`attempts`]).
fn attempt(form: &HtmlFormElement) -> Option<RefMut<'static, Attempt>> {
    RefMut::filter_map(attempts()?, |all| all.iter_mut().find(|attempt| attempt.form() == form)).ok()
}

/// Starts uploading the files of `fields`, of `form`, in place of the form's last attempt;
/// attempts of forms that left the page stop.
fn start(form: &HtmlFormElement, fields: Vec<attempt::Field>, then: Then) {
    let Some(mut all) = attempts() else { return };
    let earlier = all.iter_mut().find(|earlier| earlier.form() == form);
    let attempt = Attempt::start(form, fields, then, earlier);
    all.retain_mut(|other| {
        let keep = other.form() != form && other.form().is_connected();
        if !keep {
            other.stop_requests();
        }
        keep
    });
    all.push(attempt);
    forget_handed_over(&mut all);
}

/// Forgets the attempts that handed their form over: their keys were used.
fn forget_handed_over(all: &mut Vec<Attempt>) {
    all.retain(|attempt| !attempt.is_handed_over());
}

/// An event of request (or timer) number `request`, from `widget/js/effects.js`: the end of the
/// request with `xhr`, else an upload's progress, with the fraction `sent` of its body
/// (`loaded / total`, 0 when the browser cannot tell), or a timer. Requests of attempts that
/// are gone were stopped; their late events are ignored.
pub fn answered(request: u32, event: JsValue, xhr: Option<Xhr>, sent: f64) {
    let Some(mut all) = attempts() else { return };
    if let Some(attempt) = all.iter_mut().find(|attempt| attempt.owns(request)) {
        attempt.answered(request, event, xhr, sent);
    }
    forget_handed_over(&mut all);
}

/// Whether the form has an attempt that is still running.
fn running(form: &HtmlFormElement) -> bool {
    attempt(form).is_some_and(|attempt| !attempt.is_over())
}

/// A form is submitted; answers whether the widget takes the submission over (the caller then
/// cancels the event): the form has files to upload, or is uploading them already (a double
/// click). Called after the forms' own `submit` listeners, so a page script that cancels a
/// submission (its own validation, say) has the last word, and after the browser's
/// validation, which comes before the event.
pub fn submitted(form: &JsValue, submitter: Option<HtmlElement>) -> bool {
    let Some(form) = form.dyn_ref::<HtmlFormElement>() else { return false };
    if running(form) {
        return true;
    }
    let fields = attempt::fields(form);
    // Nothing to upload: the browser submits the form as usual.
    if fields.is_empty() {
        return false;
    }
    start(form, fields, Then::Submit(submitter));
    true
}

/// A submit button of `form` was clicked: our messages on its inputs are cleared before the
/// browser validates the form (the button's activation comes after the click's dispatch), so a
/// failed upload can be retried. Pressing Enter in a field clicks the form's default button.
pub fn clicked(form: &JsValue) {
    if let Some(mut attempt) = form.dyn_ref::<HtmlFormElement>().and_then(attempt) {
        attempt.clear_messages();
    }
}

/// Other files were chosen in `input`: what failed before concerns files that are gone, and an
/// upload under way sends files the user took back, so it stops (its multipart uploads are
/// aborted on S3).
pub fn changed(input: &JsValue) {
    let Some(input) = input.dyn_ref::<HtmlInputElement>() else { return };
    let Some(form) = input.form() else { return };
    stop(&form);
    if let Some(mut attempt) = attempt(&form) {
        attempt.forget(input);
    }
}

/// Prepares the forms with upgraded file inputs under `root` (the document when `undefined`):
/// adds each one's live region before anything is announced in it. Inputs and forms added
/// later work without it; it only makes their first announcement reliable.
pub fn upgrade(root: &JsValue) {
    for input in js::items(&effects::form_file_inputs(root)) {
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
    let deferred = effects::deferred();
    let promise: Promise = js::at(&deferred, 0).unchecked_into();
    let (resolve, reject): (Function, Function) =
        (js::at(&deferred, 1).unchecked_into(), js::at(&deferred, 2).unchecked_into());
    let Some(form) = form.dyn_ref::<HtmlFormElement>() else {
        effects::settle(&reject, &js_sys::Error::new("upload() takes a form element"));
        return promise;
    };
    if running(form) {
        effects::settle(&reject, &js_sys::Error::new("the form is uploading already"));
        return promise;
    }
    let fields = attempt::fields(form);
    if fields.is_empty() {
        effects::settle(&resolve, &Object::new());
        return promise;
    }
    start(form, fields, Then::Settle { resolve, reject });
    promise
}

/// Stops the uploads of `form`, if any, and hands the form back; answers whether there were
/// any. What was stored is kept: the next submission sends only the rest.
pub fn abort(form: &JsValue) -> bool {
    form.dyn_ref::<HtmlFormElement>().is_some_and(stop)
}

/// Stops the attempt of `form`: running requests are aborted, what is stored is kept for the
/// next attempt. Answers whether there was an attempt to stop.
fn stop(form: &HtmlFormElement) -> bool {
    let Some(mut attempt) = attempt(form).filter(|attempt| !attempt.is_over()) else { return false };
    attempt.abort();
    true
}
