//! The page's side: what the document's listeners and the JS API do, and the state they share:
//! the attempts of the page's forms, those running and those that failed (kept for the next).

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{HtmlElement, HtmlFormElement, HtmlInputElement};

use crate::attempt::{self, with, Fields, Shared, Then};
use crate::xhr::Call;
use crate::{effects, js};

/// The attempts of the page's forms, at most one per form, with their numbers.
struct Attempts(RefCell<Vec<(HtmlFormElement, u32, Shared)>>);

// SAFETY: the widget runs on the page's one thread (wasm32-unknown-unknown without atomics has
// no other); JS values cannot leave it, and this state is never touched off the browser.
unsafe impl Sync for Attempts {}

static ATTEMPTS: Attempts = Attempts(RefCell::new(Vec::new()));

/// Runs `f` on the attempts unless they are borrowed already (a page listener re-entering the
/// widget), in which case they are left alone.
fn attempts<R>(f: impl FnOnce(&mut Vec<(HtmlFormElement, u32, Shared)>) -> R) -> Option<R> {
    Some(f(&mut *ATTEMPTS.0.try_borrow_mut().ok()?))
}

/// Makes `attempt` the attempt of its form, in place of any earlier one, and forgets the
/// attempts of forms that left the page.
pub fn register(attempt: &Shared) {
    let Some((form, id)) = with(attempt, |state| (state.form.clone(), state.id)) else { return };
    attempts(|all| {
        all.retain(|(other, _, _)| *other != form && other.is_connected());
        all.push((form, id, attempt.clone()));
    });
}

pub fn unregister(attempt: &Shared) {
    attempts(|all| all.retain(|(_, _, other)| !Rc::ptr_eq(other, attempt)));
}

/// The form's attempt: running, or failed and kept for the next.
fn attempt_of(form: &HtmlFormElement) -> Option<Shared> {
    attempts(|all| all.iter().find(|(other, _, _)| other == form).map(|(_, _, attempt)| attempt.clone()))
        .flatten()
}

/// An XHR event of request `call` (see [`Call`]) of the attempt numbered `attempt`, from
/// `widget/js/effects.js`: the end of the request with `end`, else an upload's progress. An
/// attempt that is gone has stopped its requests; their events are ignored.
pub fn answered(attempt: u32, call: u32, event: JsValue, end: bool) {
    let found =
        attempts(|all| all.iter().find(|(_, id, _)| *id == attempt).map(|(_, _, attempt)| attempt.clone()));
    if let Some(Some(found)) = found {
        attempt::answered(&found, Call::of(call), event, end);
    }
}

/// Whether `attempt` is still running.
fn running(attempt: &Shared) -> bool {
    attempt.try_borrow().map_or(true, |state| !state.over)
}

/// A form is submitted; answers whether the widget takes the submission over (the caller then
/// cancels the event): the form has files to upload, or is uploading them already (a double
/// click). Called after the forms' own `submit` listeners, so a page script that cancels a
/// submission (its own validation, say) has the last word, and after the browser's
/// validation, which comes before the event.
pub fn submitted(form: &JsValue, submitter: Option<HtmlElement>) -> bool {
    let Some(form) = form.dyn_ref::<HtmlFormElement>() else { return false };
    let earlier = attempt_of(form);
    if earlier.as_ref().is_some_and(running) {
        return true;
    }
    let fields = Fields::of(form);
    // Nothing to upload: the browser submits the form as usual.
    if fields.is_empty() {
        return false;
    }
    attempt::start(form, fields, Then::Submit(submitter), earlier);
    true
}

/// A submit button of `form` was clicked: our messages on its inputs are cleared before the
/// browser validates the form (the button's activation comes after the click's dispatch), so a
/// failed upload can be retried. Pressing Enter in a field clicks the form's default button.
pub fn clicked(form: &JsValue) {
    if let Some(attempt) = form.dyn_ref::<HtmlFormElement>().and_then(attempt_of) {
        with(&attempt, attempt::Attempt::clear_messages);
    }
}

/// Other files were chosen in `input`: what failed before concerns files that are gone, and an
/// upload under way sends files the user took back, so it stops (its multipart uploads are
/// aborted on S3).
pub fn changed(input: &JsValue) {
    let Some(input) = input.dyn_ref::<HtmlInputElement>() else { return };
    if let Some(attempt) = input.form().as_ref().and_then(attempt_of) {
        if running(&attempt) {
            attempt::abort(&attempt);
        }
        with(&attempt, |state| state.forget(input));
    }
}

/// Prepares the forms with upgraded file inputs under `root` (the document when `undefined`):
/// adds each one's live region before anything is announced in it. Inputs and forms added
/// later work without it; it only makes their first announcement reliable.
pub fn upgrade(root: &JsValue) {
    for input in effects::form_file_inputs(root) {
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
    let promise: Promise = deferred.get(0).unchecked_into();
    let (resolve, reject): (Function, Function) =
        (deferred.get(1).unchecked_into(), deferred.get(2).unchecked_into());
    let Some(form) = form.dyn_ref::<HtmlFormElement>() else {
        js::call(&reject, &js_sys::Error::new("upload() takes a form element"));
        return promise;
    };
    let earlier = attempt_of(form);
    if earlier.as_ref().is_some_and(running) {
        js::call(&reject, &js_sys::Error::new("the form is uploading already"));
        return promise;
    }
    let fields = Fields::of(form);
    if fields.is_empty() {
        js::call(&resolve, &Object::new());
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
