//! The form's side: marking it busy, and handing the keys over in place of the files, either
//! by submitting it natively or by writing them into it for the JS API.

use alloc::string::String;
use alloc::vec::Vec;

use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement, HtmlFormElement, HtmlInputElement};

use crate::js;

#[wasm_bindgen]
extern "C" {
    /// `HTMLFormElement.prototype.submit` called on `form`: `form.submit` itself is shadowed by
    /// any control named or id'd "submit", a common name for the submit button.
    #[wasm_bindgen(js_namespace = ["HTMLFormElement", "prototype", "submit"], js_name = call)]
    fn submit_form(form: &HtmlFormElement);
}

/// A submitter's attributes that override its form's for its submission, with the form
/// attribute each one overrides. `formnovalidate` has no place here: `submit()` does not
/// validate, and the form was validated (or not) before the upload started.
const OVERRIDES: [(&str, &str); 4] = [
    ("formaction", "action"),
    ("formmethod", "method"),
    ("formenctype", "enctype"),
    ("formtarget", "target"),
];

/// Submits `form` natively, as `submitter` would have, with `entries` in place of the file
/// inputs `inputs` (each with its name), and puts the form back as it was right after.
///
/// `HTMLFormElement.prototype.submit` with the submitter's name, value and `form*` overrides
/// applied by hand, rather than `form.requestSubmit(submitter)` with a mark that lets our own
/// listener pass: `requestSubmit` fires `submit` a second time, to every listener of the page.
/// A page that guards against double submission (a flag set in its `submit` listener, a
/// library that cancels a repeated submit) would cancel it, and the form would hang after its
/// files were uploaded; a `confirm()` would ask twice, analytics count twice. `submit()`
/// runs no page code but `formdata` listeners, and reads the action, method, enctype, target
/// and entries synchronously, so the form can be restored as soon as it returns.
/// What this gives up: an `<input type=submit>` without a `value` sends an empty value
/// (browsers send their own label), and an image button sends no click coordinates.
pub fn submit(
    form: &HtmlFormElement,
    submitter: Option<&HtmlElement>,
    inputs: &[(HtmlInputElement, String)],
    entries: &[(String, String)],
) {
    let mut added = add_entries(form, inputs, entries);
    let mut overridden = Vec::new();
    if let Some(submitter) = submitter {
        let name = submitter.get_attribute("name").filter(|name| !name.is_empty());
        if let (Some(name), false) = (name, js::text(submitter, "type").as_deref() == Some("image")) {
            added.extend(hidden_input(form, &name, &js::text(submitter, "value").unwrap_or_default()));
        }
        for (from, to) in OVERRIDES {
            if let Some(value) = submitter.get_attribute(from) {
                overridden.push((to, form.get_attribute(to)));
                let _ = form.set_attribute(to, &value);
            }
        }
    }

    submit_form(form);

    for (attribute, value) in overridden {
        let _ = match value {
            Some(value) => form.set_attribute(attribute, &value),
            None => form.remove_attribute(attribute),
        };
    }
    for input in added {
        input.remove();
    }
    for (input, name) in inputs {
        let _ = input.set_attribute("name", name);
    }
}

/// Writes `entries` into `form` for good, in place of the file inputs `inputs`, as
/// django-s3file does before it submits: a later submission sends the keys, not the files.
pub fn write(form: &HtmlFormElement, inputs: &[(HtmlInputElement, String)], entries: &[(String, String)]) {
    add_entries(form, inputs, entries);
}

/// Adds a hidden input per entry and takes the file inputs' names away.
fn add_entries(
    form: &HtmlFormElement,
    inputs: &[(HtmlInputElement, String)],
    entries: &[(String, String)],
) -> Vec<Element> {
    let added = entries.iter().filter_map(|(name, value)| hidden_input(form, name, value)).collect();
    for (input, _) in inputs {
        let _ = input.remove_attribute("name");
    }
    added
}

fn hidden_input(form: &HtmlFormElement, name: &str, value: &str) -> Option<Element> {
    let input = crate::DOCUMENT.with(|document| document.create_element("input")).ok()?;
    let _ = input.set_attribute("type", "hidden");
    let _ = input.set_attribute("name", name);
    let _ = input.set_attribute("value", value);
    let _ = form.append_child(&input);
    Some(input)
}

/// Marks a form as uploading until dropped: it is `aria-busy`, and its enabled submit buttons
/// (also those outside it that name it with `form=`) are disabled.
pub struct Busy {
    form: HtmlFormElement,
    disabled: Vec<Element>,
}

impl Busy {
    pub fn start(form: &HtmlFormElement) -> Busy {
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
        Busy { form: form.clone(), disabled }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        for button in &self.disabled {
            let _ = button.remove_attribute("disabled");
        }
        let _ = self.form.remove_attribute("aria-busy");
    }
}

/// Whether a form control submits its form: a `<button>` (whose type defaults to `submit`), or
/// an `<input>` of type `submit` or `image`. Their `type` property tells.
pub fn is_submit_button(control: &JsValue) -> bool {
    matches!(js::text(control, "type").as_deref(), Some("submit" | "image"))
}
