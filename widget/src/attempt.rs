//! One attempt at uploading a form's files: sign each input's files (or read django-s3file's
//! instructions from the input), upload them a few at a time, then hand the keys over: the form
//! is submitted natively with them, or, for the JS API, they are written into the form.
//!
//! On failure the form is handed back with the reasons, and each input keeps its instructions
//! and the keys of its stored files, so the next attempt sends only what failed (see `retry`).
//!
//! The attempt is driven by XHR callbacks. Its state is borrowed only between them, never while
//! page code runs: events are dispatched, and the form submitted, after the borrow ends, so a
//! listener may call `abort()` or start another upload.

use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Array, Date, Function, Object};
use wasm_bindgen::prelude::*;
use web_sys::{console, Element, File, HtmlElement, HtmlFormElement, HtmlInputElement, ProgressEvent};

use crate::announcement::{quarter_passed, Announcement};
use crate::endpoint::{source, Source};
use crate::failure::Failure;
use crate::instructions::{self, Instructions};
use crate::page::Retained;
use crate::progress::Tally;
use crate::queue::Queue;
use crate::sign::{self, Restrictions};
use crate::submission::hidden_fields;
use crate::xhr::{handler, Request};
use crate::{events, js, live_region, native, retry, settings, upload};

/// What to do with the keys once every file is stored.
pub enum Then {
    /// Submit the form natively, as `submitter` would have.
    Submit(Option<HtmlElement>),
    /// Write the keys into the form and settle the JS API's promise.
    Settle { resolve: Function, reject: Function },
}

/// An upgraded file input that takes part in the attempt.
struct Field {
    input: HtmlInputElement,
    /// The input's `name`: the form field the keys are submitted as.
    name: String,
    /// The signer's URL; `None` for django-s3file's markup, whose instructions are on the input.
    sign_url: Option<String>,
    /// Taken at submit: choosing other files meanwhile gives the input a new list.
    files: Vec<File>,
    /// The number of the field's first file among the form's files.
    first_file: usize,
    instructions: Option<Rc<Instructions>>,
    /// The instructions come from an earlier attempt.
    reused: bool,
    /// The store refused an upload that used reused instructions: the next attempt signs afresh.
    stale: bool,
    signing: Option<Request>,
}

pub struct Attempt {
    form: HtmlFormElement,
    then: Option<Then>,
    fields: Vec<Field>,
    /// The field of each of the form's files.
    file_fields: Vec<usize>,
    queue: Queue,
    tally: Tally,
    /// The running upload of each file.
    uploads: Vec<Option<Request>>,
    /// Each failure and the field it concerns.
    failures: Vec<(usize, Failure)>,
    /// The form's progress when it was last announced.
    announced_progress: f64,
    /// Disables the form's submit buttons until the attempt is over.
    busy: Option<native::Busy>,
    over: bool,
}

pub type Shared = Rc<RefCell<Attempt>>;

/// Runs `f` on the attempt unless it is borrowed already, which would mean a page listener
/// re-entered the widget in a way it does not expect: it is then left alone.
fn with<R>(attempt: &Shared, f: impl FnOnce(&mut Attempt) -> R) -> Option<R> {
    let mut attempt = attempt.try_borrow_mut().ok()?;
    Some(f(&mut attempt))
}

/// The upgraded file inputs of `form` that take part in its submission: named, enabled, with
/// files.
fn fields_to_upload(form: &HtmlFormElement) -> Vec<Field> {
    let form_attribute = form.get_attribute("data-s3file");
    let mut fields = Vec::new();
    let mut file_count = 0;
    let controls = form.elements();
    for index in 0..controls.length() {
        let Some(input) = controls.item(index).and_then(file_input) else {
            continue;
        };
        // The browser would not submit a disabled or nameless input either.
        let Some(name) = input.get_attribute("name").filter(|name| !name.is_empty()) else {
            continue;
        };
        if input.disabled() {
            continue;
        }
        let Some(sign_url) = sign_url(&input, form_attribute.as_deref()) else {
            continue;
        };
        let files: Vec<File> = input.files().map_or(Vec::new(), |list| list_files(&list));
        if files.is_empty() {
            continue;
        }
        let first_file = file_count;
        file_count += files.len();
        fields.push(Field {
            input,
            name,
            sign_url,
            files,
            first_file,
            instructions: None,
            reused: false,
            stale: false,
            signing: None,
        });
    }
    fields
}

/// `element` as an `<input type=file>`.
pub fn file_input(element: Element) -> Option<HtmlInputElement> {
    // Only an `<input>` has the type `file`.
    (js::text(&element, "type").as_deref() == Some("file")).then(|| element.unchecked_into())
}

/// Whether `input` is upgraded and, if so, its signer's URL (`None` inside: django-s3file's
/// markup, which needs no signer).
pub fn sign_url(input: &HtmlInputElement, form_attribute: Option<&str>) -> Option<Option<String>> {
    let presigned = input.matches(".s3file[data-url]").unwrap_or(false);
    let input_attribute = input.get_attribute("data-s3file");
    match source(presigned, input_attribute.as_deref(), form_attribute)? {
        Source::Signer(url) => Some(Some(url.into())),
        Source::Presigned => Some(None),
    }
}

fn list_files(list: &web_sys::FileList) -> Vec<File> {
    (0..list.length()).filter_map(|index| list.get(index)).collect()
}

/// The upgraded file inputs of a form that have files to upload.
pub struct Fields(Vec<Field>);

impl Fields {
    /// Those of `form`: named, enabled, with files, as the browser would submit them.
    pub fn of(form: &HtmlFormElement) -> Fields {
        Fields(fields_to_upload(form))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Starts uploading the files of `fields`, of `form`.
pub fn start(form: &HtmlFormElement, Fields(mut fields): Fields, then: Then) {
    // What earlier attempts left for these inputs: reused if the files are the same and the
    // instructions still valid, dropped otherwise. Their messages are cleared either way.
    let now = Date::now();
    let mut stored_keys: Vec<Option<String>> = Vec::new();
    for field in &mut fields {
        let retained = crate::page::take_retained(&field.input);
        let mut keys = None;
        if let Some(Retained { files, instructions: Some(instructions), keys: retained_keys, .. }) = retained
        {
            if files == field.files && retry::reusable(instructions.expires_at, now) {
                field.instructions = Some(instructions);
                field.reused = true;
                keys = Some(retained_keys);
            }
        }
        let mut keys = keys.unwrap_or_default().into_iter();
        stored_keys.extend(field.files.iter().map(|_| keys.next().flatten()));
    }

    let file_fields: Vec<usize> =
        fields.iter().enumerate().flat_map(|(index, field)| field.files.iter().map(move |_| index)).collect();
    let limit = settings::concurrency(form.get_attribute("data-s3file-concurrency").as_deref());
    let queue = Queue::new(file_fields.iter().copied().zip(stored_keys), limit);
    // Progress counts the files this attempt sends.
    let mut sizes = Vec::with_capacity(file_fields.len());
    for (index, field) in fields.iter().enumerate() {
        for (offset, file) in field.files.iter().enumerate() {
            let stored = queue.is_stored(field.first_file + offset);
            sizes.push((index, if stored { 0.0 } else { file.size() }));
        }
    }
    let mut tally = Tally::new(sizes);
    let mut sending = 0;
    for file in 0..file_fields.len() {
        if queue.is_stored(file) {
            tally.finish(file);
        } else {
            sending += 1;
        }
    }
    let total = tally.form().total;

    let file_count = file_fields.len();
    let attempt = Rc::new(RefCell::new(Attempt {
        form: form.clone(),
        then: Some(then),
        fields,
        file_fields,
        queue,
        tally,
        uploads: (0..file_count).map(|_| None).collect(),
        failures: Vec::new(),
        announced_progress: 0.0,
        busy: Some(native::Busy::start(form)),
        over: false,
    }));
    crate::page::register(form, &attempt);

    let weak = Rc::downgrade(&attempt);
    with(&attempt, |state| {
        let max_size_of_form = form.get_attribute("data-s3file-max-size");
        for index in 0..state.fields.len() {
            if state.fields[index].instructions.is_some() {
                state.queue.signed(index);
                continue;
            }
            if let Err(failure) = prepare(state, index, max_size_of_form.as_deref(), &weak) {
                state.queue.refused(index);
                state.failures.push((index, failure));
            }
        }
    });

    events::start(form, sending, total);
    live_region::announce(form, &Announcement::Uploading { files: sending }.text());
    pump(&attempt);
}

/// Checks the sizes of field `index`'s files, then gets its instructions: from the input for
/// django-s3file's markup, else by asking the signer.
fn prepare(
    state: &mut Attempt,
    index: usize,
    max_size_of_form: Option<&str>,
    attempt: &Weak<RefCell<Attempt>>,
) -> Result<(), Failure> {
    let field = &mut state.fields[index];
    let max_size =
        settings::max_size(field.input.get_attribute("data-s3file-max-size").as_deref(), max_size_of_form);
    if let Some(max) = max_size {
        if let Some(file) = field.files.iter().find(|file| file.size() > max as f64) {
            return Err(Failure::TooLarge { file: file.name(), size: file.size() as u64, max });
        }
    }
    let Some(url) = &field.sign_url else {
        field.instructions = Some(Rc::new(instructions::from_markup(&field.input, &field.files)));
        state.queue.signed(index);
        return Ok(());
    };
    let accept = field.input.get_attribute("accept").filter(|accept| !accept.trim_ascii().is_empty());
    let restrictions = Restrictions { accept: accept.as_deref(), max_size };
    let attempt = attempt.clone();
    let on_end = handler(move |_| on_signed(&attempt, index));
    field.signing = Some(sign::request(url, &field.name, &field.files, &restrictions, on_end)?);
    Ok(())
}

fn on_signed(attempt: &Weak<RefCell<Attempt>>, index: usize) {
    let Some(attempt) = attempt.upgrade() else { return };
    with(&attempt, |state| {
        let field = &mut state.fields[index];
        let (Some(request), Some(url)) = (field.signing.take(), &field.sign_url) else {
            return;
        };
        match sign::read_answer(url, &request, field.files.len()) {
            Ok(instructions) => {
                field.instructions = Some(Rc::new(instructions));
                state.queue.signed(index);
            }
            Err(failure) => {
                state.queue.refused(index);
                state.failures.push((index, failure));
            }
        }
    });
    pump(&attempt);
}

/// Starts uploads while slots are free; ends the attempt once every file is stored or failed.
fn pump(attempt: &Shared) {
    let weak = Rc::downgrade(attempt);
    let over = with(attempt, |state| {
        if state.over {
            return false;
        }
        while let Some(file) = state.queue.start_next() {
            if let Err(failure) = start_upload(state, file, &weak) {
                state.queue.failed(file);
                state.failures.push((state.file_fields[file], failure));
            }
        }
        state.queue.is_over()
    });
    if over == Some(true) {
        finish(attempt);
    }
}

/// The file numbered `file` among the form's files, its field, and its instructions.
fn file_of(state: &Attempt, file: usize) -> Option<(&Field, &File, &instructions::Target, bool)> {
    let field = state.fields.get(*state.file_fields.get(file)?)?;
    let index = file - field.first_file;
    let instructions = field.instructions.as_ref()?;
    Some((field, field.files.get(index)?, instructions.files.get(index)?, instructions.decode_keys))
}

fn start_upload(state: &mut Attempt, file: usize, attempt: &Weak<RefCell<Attempt>>) -> Result<(), Failure> {
    let Some((_, blob, target, _)) = file_of(state, file) else {
        return Ok(());
    };
    let on_progress = {
        let attempt = attempt.clone();
        handler(move |event| on_upload_progress(&attempt, file, event))
    };
    let on_end = {
        let attempt = attempt.clone();
        handler(move |event| on_upload_end(&attempt, file, event))
    };
    state.uploads[file] = Some(upload::start(blob, target, on_progress, on_end)?);
    Ok(())
}

/// What a `progress` event reports, gathered while the attempt is borrowed.
struct ProgressNotice {
    form: HtmlFormElement,
    input: HtmlInputElement,
    file: File,
    of_form: crate::progress::Progress,
    of_input: crate::progress::Progress,
    file_progress: f64,
    quarter: Option<u8>,
}

fn progress_notice(state: &mut Attempt, file: usize, file_progress: f64) -> Option<ProgressNotice> {
    let field_index = *state.file_fields.get(file)?;
    let (field, blob, _, _) = file_of(state, file)?;
    let of_form = state.tally.form();
    let notice = ProgressNotice {
        form: state.form.clone(),
        input: field.input.clone(),
        file: blob.clone(),
        of_form,
        of_input: state.tally.input(field_index),
        file_progress,
        quarter: quarter_passed(state.announced_progress, of_form.progress),
    };
    state.announced_progress = of_form.progress;
    Some(notice)
}

impl ProgressNotice {
    /// Dispatches `progress` on the form, then on the input, as django-s3file does.
    fn dispatch(&self, original: &JsValue) {
        events::progress(&self.form, self.of_form, &self.file, self.file_progress, original);
        events::progress(&self.input, self.of_input, &self.file, self.file_progress, original);
        if let Some(quarter) = self.quarter {
            live_region::announce(&self.form, &Announcement::Quarter(quarter).text());
        }
    }
}

fn on_upload_progress(attempt: &Weak<RefCell<Attempt>>, file: usize, event: JsValue) {
    let Some(attempt) = attempt.upgrade() else { return };
    let notice = with(&attempt, |state| {
        let progress: &ProgressEvent = event.unchecked_ref();
        let total = progress.length_computable().then(|| progress.total());
        let file_progress = state.tally.record(file, progress.loaded(), total);
        progress_notice(state, file, file_progress)
    });
    if let Some(notice) = notice.flatten() {
        notice.dispatch(&event);
    }
}

fn on_upload_end(attempt: &Weak<RefCell<Attempt>>, file: usize, event: JsValue) {
    let Some(attempt) = attempt.upgrade() else { return };
    let stored = with(&attempt, |state| {
        let request = state.uploads.get_mut(file)?.take()?;
        let (field, blob, target, decode_key) = file_of(state, file)?;
        let field_index = state.file_fields[file];
        match upload::read_answer(&request, blob, target, decode_key) {
            Ok(key) => {
                let done = (field.input.clone(), field.name.clone(), key.clone());
                state.queue.stored(file, key);
                state.tally.finish(file);
                // The last progress event may come before the body is complete; this one brings
                // the file, and with the last file the form, to 1.
                Some((progress_notice(state, file, 1.0)?, done))
            }
            Err(failure) => {
                let field = &mut state.fields[field_index];
                field.stale |= field.reused && matches!(failure, Failure::UploadRefused { .. });
                state.queue.failed(file);
                state.failures.push((field_index, failure));
                None
            }
        }
    });
    if let Some((notice, (input, name, key))) = stored.flatten() {
        notice.dispatch(&event);
        events::done(&input, &key, &notice.file, &name);
    }
    pump(&attempt);
}

/// Ends the attempt: hands the keys over, or the form back with the reasons.
fn finish(attempt: &Shared) {
    crate::page::unregister(attempt);
    let Some(Some(conclusion)) = with(attempt, conclude) else { return };
    match conclusion {
        Conclusion::Stored { form, then, inputs, entries, keys, busy } => {
            // The form is itself again before it goes, in case the page stays (a `target`
            // elsewhere, the back-forward cache).
            drop(busy);
            live_region::announce(&form, &Announcement::Complete.text());
            match then {
                Then::Submit(submitter) => native::submit(&form, submitter.as_ref(), &inputs, &entries),
                Then::Settle { resolve, .. } => {
                    native::write(&form, &inputs, &entries);
                    let _ = resolve.call1(&JsValue::UNDEFINED, &keys);
                }
            }
        }
        Conclusion::Failed { form, then, reports, busy } => {
            drop(busy);
            report(&form, &reports);
            if let (Then::Settle { reject, .. }, Some((_, _, failure))) = (then, reports.first()) {
                let _ = reject.call1(&JsValue::UNDEFINED, &js_sys::Error::new(&failure.message()));
            }
        }
    }
}

enum Conclusion {
    Stored {
        form: HtmlFormElement,
        then: Then,
        /// Each upgraded input and its name.
        inputs: Vec<(HtmlInputElement, String)>,
        /// The form entries that stand in for the inputs.
        entries: Vec<(String, String)>,
        /// `{field: [key, …]}` for the JS API.
        keys: Object,
        busy: Option<native::Busy>,
    },
    Failed {
        form: HtmlFormElement,
        then: Then,
        /// Each failure with its input and the input's name.
        reports: Vec<(HtmlInputElement, String, Failure)>,
        busy: Option<native::Busy>,
    },
}

fn conclude(state: &mut Attempt) -> Option<Conclusion> {
    if state.over {
        return None;
    }
    state.over = true;
    let then = state.then.take()?;
    let busy = state.busy.take();
    let form = state.form.clone();
    if state.failures.is_empty() {
        let mut entries = Vec::new();
        let keys = Object::new();
        for (index, field) in state.fields.iter().enumerate() {
            let (Some(field_keys), Some(instructions)) = (state.queue.all_keys(index), &field.instructions)
            else {
                continue;
            };
            entries.extend(hidden_fields(&field.name, &field_keys, &instructions.signature));
            let list: Array = field_keys.iter().map(|key| JsValue::from(key.as_str())).collect();
            js::set(&keys, &field.name.as_str().into(), &list);
        }
        let inputs = state.fields.iter().map(|field| (field.input.clone(), field.name.clone())).collect();
        return Some(Conclusion::Stored { form, then, inputs, entries, keys, busy });
    }
    retain(state);
    let reports = core::mem::take(&mut state.failures)
        .into_iter()
        .map(|(index, failure)| {
            let field = &state.fields[index];
            (field.input.clone(), field.name.clone(), failure)
        })
        .collect();
    Some(Conclusion::Failed { form, then, reports, busy })
}

/// Keeps each field's instructions and stored keys for the next attempt.
fn retain(state: &Attempt) {
    for (index, field) in state.fields.iter().enumerate() {
        let instructions = field.instructions.clone().filter(|_| !field.stale);
        let keys = match instructions {
            Some(_) => state.queue.keys(index),
            None => Vec::new(),
        };
        crate::page::retain(Retained {
            input: field.input.clone(),
            files: field.files.clone(),
            instructions,
            keys,
            message: false,
        });
    }
}

/// Tells the page and the person what failed: `s3file:error` for each failure, the first
/// failure of each input as its validity message, the first of all in the live region.
fn report(form: &HtmlFormElement, reports: &[(HtmlInputElement, String, Failure)]) {
    let mut reported: Vec<&HtmlInputElement> = Vec::new();
    for (input, name, failure) in reports {
        let message = failure.message();
        console::error_2(&"s3file:".into(), &message.as_str().into());
        events::error(input, &message, name, failure.file_name());
        if reported.contains(&input) {
            continue;
        }
        reported.push(input);
        // The message stays until other files are chosen or the form is submitted again.
        input.set_custom_validity(&message);
        crate::page::mark_message(input);
    }
    if let Some((input, _, failure)) = reports.first() {
        live_region::announce(form, &Announcement::Failed(&failure.message()).text());
        input.report_validity();
    }
}

/// Stops the attempt: running uploads are aborted, what is stored is kept for the next attempt.
/// Answers whether there was an attempt to stop.
pub fn abort(attempt: &Shared) -> bool {
    crate::page::unregister(attempt);
    let stopped = with(attempt, |state| {
        if state.over {
            return None;
        }
        state.over = true;
        // Dropping the requests aborts them without calling back.
        state.uploads.clear();
        for field in &mut state.fields {
            field.signing = None;
        }
        state.queue.stop();
        retain(state);
        Some((state.form.clone(), state.then.take(), state.busy.take()))
    });
    let Some((form, then, busy)) = stopped.flatten() else {
        return false;
    };
    drop(busy);
    live_region::announce(&form, &Announcement::Stopped.text());
    if let Some(Then::Settle { reject, .. }) = then {
        let error = js_sys::Error::new("the upload was aborted");
        error.set_name("AbortError");
        let _ = reject.call1(&JsValue::UNDEFINED, &error);
    }
    true
}
