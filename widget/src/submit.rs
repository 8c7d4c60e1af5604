//! From a form's submit to its native submission: sign, upload, swap each file input for its
//! keys, submit. On failure the form is handed back to the person with the reason.

use alloc::borrow::ToOwned;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Object, WeakSet};
use wasm_bindgen::prelude::*;
use web_sys::{
    console, AddEventListenerOptions, Element, File, FileList, HtmlElement, HtmlFormElement,
    HtmlInputElement, ProgressEvent,
};

use crate::endpoint::sign_url;
use crate::failure::Failure;
use crate::join::try_join_all;
use crate::progress::Tally;
use crate::sign::{sign, SignedField};
use crate::submission::hidden_fields;
use crate::upload::upload;
use crate::{events, js};

#[wasm_bindgen]
extern "C" {
    /// `HTMLFormElement.prototype.submit` called on `form`: `form.submit` itself is shadowed by
    /// any control named or id'd "submit", a common name for the submit button.
    #[wasm_bindgen(js_namespace = ["HTMLFormElement", "prototype", "submit"], js_name = call)]
    fn submit_form(form: &HtmlFormElement);
}

/// An upgraded file input that has files to upload.
pub struct Field {
    input: HtmlInputElement,
    /// The input's `name`: the form field the keys are submitted as.
    name: String,
    sign_url: String,
    /// Not empty. Taken at submit: choosing other files meanwhile gives the input a new list.
    files: FileList,
}

/// The failure and the index of the field it concerns.
type FieldFailure = (usize, Failure);

/// The upgraded file inputs of `form` that take part in its submission and have files.
pub fn fields_to_upload(form: &HtmlFormElement) -> Vec<Field> {
    let form_attribute = form.get_attribute("data-s3file");
    let mut fields = Vec::new();
    let controls = form.elements();
    for index in 0..controls.length() {
        let Some(control) = controls.item(index) else {
            continue;
        };
        // Only an `<input>` has the type `file`.
        if js::text(&control, "type").as_deref() != Some("file") {
            continue;
        }
        let input: HtmlInputElement = control.unchecked_into();
        // The browser would not submit a disabled or nameless input either.
        let Some(name) = input.get_attribute("name").filter(|name| !name.is_empty()) else {
            continue;
        };
        if input.has_attribute("disabled") {
            continue;
        }
        let input_attribute = input.get_attribute("data-s3file");
        let Some(url) = sign_url(input_attribute.as_deref(), form_attribute.as_deref()) else {
            continue;
        };
        let Some(files) = input.files().filter(|files| files.length() > 0) else {
            continue;
        };
        fields.push(Field { name, sign_url: url.to_owned(), files, input });
    }
    fields
}

/// Uploads the files of `fields` and submits `form` natively with their keys in their place.
/// `submitter` is the button that submitted the form, if any. `uploading` marks the form until
/// this is over.
pub async fn upload_and_submit(
    uploading: Uploading,
    form: HtmlFormElement,
    submitter: Option<HtmlElement>,
    fields: Vec<Field>,
) {
    match upload_all(&form, &fields).await {
        Ok(entries) => submit_natively(&form, submitter.as_ref(), &fields, &entries),
        Err((index, failure)) => {
            drop(uploading);
            if let Some(field) = fields.get(index) {
                report(field, &failure);
            }
        }
    }
}

/// Signs and uploads the files of every field, and answers the form entries that stand in for
/// them. Fields are signed one after the other, files are uploaded all at once.
async fn upload_all(form: &HtmlFormElement, fields: &[Field]) -> Result<Vec<(String, String)>, FieldFailure> {
    let mut signed: Vec<SignedField> = Vec::with_capacity(fields.len());
    for (index, field) in fields.iter().enumerate() {
        let answer = sign(&field.sign_url, &field.name, &field.files).await;
        signed.push(answer.map_err(|failure| (index, failure))?);
    }

    let mut sizes = Vec::new();
    for (field_index, field) in fields.iter().enumerate() {
        for file in files(&field.files) {
            sizes.push((field_index, file.size()));
        }
    }
    let tally = Rc::new(RefCell::new(Tally::new(sizes)));
    let mut uploads = Vec::new();
    for (field_index, (field, signed)) in fields.iter().zip(&signed).enumerate() {
        for (file, target) in files(&field.files).zip(&signed.files) {
            let file_index = uploads.len();
            let on_progress = {
                let (form, input, file) = (form.clone(), field.input.clone(), file.clone());
                let tally = tally.clone();
                move |event: ProgressEvent| {
                    let total = event.length_computable().then(|| event.total());
                    let file_progress = tally.borrow_mut().record(file_index, event.loaded(), total);
                    announce(&tally, &form, &input, field_index, &file, file_progress, &event);
                }
            };
            let tally = &tally;
            uploads.push(async move {
                let (key, loaded) =
                    upload(&file, target, on_progress).await.map_err(|failure| (field_index, failure))?;
                tally.borrow_mut().finish(file_index);
                // The last progress event may come before the body is complete; this one brings
                // the file, and with the last file the form, to 1.
                announce(tally, form, &field.input, field_index, &file, 1.0, &loaded);
                Ok::<_, FieldFailure>(key)
            });
        }
    }
    // On the first failure the other uploads are dropped, which aborts them.
    let keys = try_join_all(uploads).await?;

    let mut entries = Vec::new();
    let mut keys = keys.as_slice();
    for (field, signed) in fields.iter().zip(&signed) {
        let (field_keys, rest) = keys.split_at_checked(signed.files.len()).unwrap_or((keys, &[]));
        entries.extend(hidden_fields(&field.name, field_keys, &signed.signature));
        keys = rest;
    }
    Ok(entries)
}

/// The files of a list, in order.
fn files(list: &FileList) -> impl Iterator<Item = File> + '_ {
    (0..list.length()).filter_map(|index| list.get(index))
}

/// Dispatches `progress` on the input, then on its form, as the tally stands.
fn announce(
    tally: &RefCell<Tally>,
    form: &HtmlFormElement,
    input: &HtmlInputElement,
    field_index: usize,
    file: &File,
    file_progress: f64,
    original: &ProgressEvent,
) {
    let (of_input, of_form) = {
        let tally = tally.borrow();
        (tally.input(field_index), tally.form())
    };
    events::progress(input, of_input, file, file_progress, original);
    events::progress(form, of_form, file, file_progress, original);
}

/// Replaces the file inputs by hidden inputs with `entries` and submits `form` without firing
/// `submit` again.
fn submit_natively(
    form: &HtmlFormElement,
    submitter: Option<&HtmlElement>,
    fields: &[Field],
    entries: &[(String, String)],
) {
    let mut hidden = Vec::with_capacity(entries.len() + 1);
    let mut add = |name: &str, value: &str| {
        let Ok(input) = crate::DOCUMENT.with(|document| document.create_element("input")) else {
            return;
        };
        let _ = input.set_attribute("type", "hidden");
        let _ = input.set_attribute("name", name);
        let _ = input.set_attribute("value", value);
        let _ = form.append_child(&input);
        hidden.push(input);
    };
    for (name, value) in entries {
        add(name, value);
    }
    // `submit()` leaves out the button that was clicked; send its name and value as a click would.
    if let Some(submitter) = submitter {
        if let Some(name) = submitter.get_attribute("name").filter(|name| !name.is_empty()) {
            add(&name, &js::text(submitter, "value").unwrap_or_default());
        }
    }
    for field in fields {
        let _ = field.input.remove_attribute("name");
    }

    submit_form(form);

    // `submit()` has read the form's entries already. Put the form back as it was, so it works
    // again if the page stays (a `target=_blank` form, the back-forward cache).
    for input in hidden {
        input.remove();
    }
    for field in fields {
        let _ = field.input.set_attribute("name", &field.name);
    }
}

/// Tells the page and the person that `field` could not be uploaded.
fn report(field: &Field, failure: &Failure) {
    let message = failure.message();
    console::error_2(&"s3file:".into(), &message.as_str().into());
    events::error(&field.input, &message, &field.name, failure.file_name());
    field.input.set_custom_validity(&message);
    field.input.report_validity();

    // The message blocks the form until other files are chosen.
    let input = field.input.clone();
    let clear = Closure::once_into_js(move || input.set_custom_validity(""));
    let options = AddEventListenerOptions::new();
    options.set_once(true);
    let _ = field.input.add_event_listener_with_callback_and_add_event_listener_options(
        "change",
        clear.unchecked_ref(),
        &options,
    );
}

/// Marks a form as uploading until dropped: it is in the set of uploading forms, whose submits
/// are ignored, it is `aria-busy`, and its enabled submit buttons are disabled.
pub struct Uploading {
    forms: WeakSet,
    form: HtmlFormElement,
    disabled: Vec<Element>,
}

impl Uploading {
    pub fn start(forms: WeakSet, form: &HtmlFormElement) -> Uploading {
        forms.add(form.unchecked_ref::<Object>());
        let _ = form.set_attribute("aria-busy", "true");
        let mut disabled = Vec::new();
        let controls = form.elements();
        for index in 0..controls.length() {
            let Some(control) = controls.item(index) else {
                continue;
            };
            if is_submit_button(&control) && !control.has_attribute("disabled") {
                let _ = control.set_attribute("disabled", "");
                disabled.push(control);
            }
        }
        Uploading { forms, form: form.clone(), disabled }
    }
}

impl Drop for Uploading {
    fn drop(&mut self) {
        for button in &self.disabled {
            let _ = button.remove_attribute("disabled");
        }
        let _ = self.form.remove_attribute("aria-busy");
        self.forms.delete(self.form.unchecked_ref::<Object>());
    }
}

/// Whether a form control submits its form: a `<button>` (whose type defaults to `submit`), or
/// an `<input>` of type `submit` or `image`. Their `type` property tells.
fn is_submit_button(control: &Element) -> bool {
    matches!(js::text(control, "type").as_deref(), Some("submit" | "image"))
}
