//! One attempt at uploading a form's files: sign each input's files (or read django-s3file's
//! instructions from the input), upload them a few at a time, then hand the keys over: the form
//! is submitted natively with them, or, for the JS API, they are written into the form.
//!
//! On failure the form is handed back with the reasons, and the attempt stays with the page:
//! the next attempt for the form takes each input's instructions and the keys of its stored
//! files from it, so it sends only what failed (see `retry`).
//!
//! The attempt is driven by its requests' XHR events, which reach it through [`answered`]. Its
//! state is borrowed only between them, never while page code runs: events are dispatched, and
//! the form submitted, after the borrow ends, so a listener may call `abort()` or start another
//! upload.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use js_sys::{Array, Date, Function, Math, Object};
use wasm_bindgen::prelude::*;
use web_sys::{File, HtmlElement, HtmlFormElement, HtmlInputElement, ProgressEvent};

use crate::announcement::{quarter_passed, Announcement};
use crate::backoff::{self, Verdict};
use crate::endpoint::{sibling, source, Source};
use crate::failure::Failure;
use crate::instructions::{self, Instructions, Target};
use crate::parts::Parts;
use crate::progress::{fraction, Progress, Tally};
use crate::queue::Queue;
use crate::sign::{self, Restrictions};
use crate::submission::hidden_fields;
use crate::upload::Part;
use crate::xhr::{Call, Request, Stall};
use crate::{dom, effects, js, retry, settings, upload};

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
    /// The instructions must not serve another attempt: the store refused one of their
    /// uploads after a reuse, or other files were chosen.
    stale: bool,
    signing: Option<Request>,
    /// The input shows one of this attempt's failures as its validity message.
    message: bool,
}

/// What a multipart upload has from the signer. Reached with `get`/`get_mut` only: an index
/// that could panic would bring the formatting of panic messages into the wasm.
#[derive(Default)]
struct Side {
    /// Its request on the way (part URLs, completion).
    asking: Option<Request>,
    /// Failures of those requests in a row.
    failures: u32,
    /// `{url, headers}` per part number - 1.
    urls: Vec<JsValue>,
    /// Until when the URLs are used, in Unix milliseconds: a margin before they expire, so a
    /// part does not start on a URL about to be refused.
    fresh_until: f64,
}

pub struct Attempt {
    /// The number its requests' events come back with.
    pub id: u32,
    pub form: HtmlFormElement,
    then: Option<Then>,
    fields: Vec<Field>,
    /// The field of each of the form's files.
    file_fields: Vec<usize>,
    queue: Queue,
    tally: Tally,
    /// The transfers on their way: file, part, request.
    transfers: Vec<(usize, u32, Option<Request>)>,
    /// Each file's dealings with the signer after signing (a multipart upload's).
    sides: Vec<Side>,
    /// Tries after the first, per transfer.
    retries: u32,
    stall: Stall,
    /// The browser went offline: nothing starts until it is back.
    paused: bool,
    /// Each failure and the field it concerns.
    failures: Vec<(usize, Failure)>,
    /// The form's progress when it was last announced.
    announced_progress: f64,
    /// Whether the attempt is over: failed or stopped, it stays with the page for the next.
    pub over: bool,
}

pub type Shared = Rc<RefCell<Attempt>>;

/// The number of the next attempt.
static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// Runs `f` on the attempt unless it is borrowed already, which would mean a page listener
/// re-entered the widget in a way it does not expect: it is then left alone.
pub fn with<R>(attempt: &Shared, f: impl FnOnce(&mut Attempt) -> R) -> Option<R> {
    let mut attempt = attempt.try_borrow_mut().ok()?;
    Some(f(&mut attempt))
}

/// The upgraded file inputs of a form that have files to upload.
pub struct Fields(Vec<Field>);

impl Fields {
    /// Those of `form`: named, enabled, with files, as the browser would submit them.
    pub fn of(form: &HtmlFormElement) -> Fields {
        let form_attribute = form.get_attribute("data-s3file");
        let mut fields = Vec::new();
        let mut first_file = 0;
        for input in effects::file_inputs(form) {
            let input: HtmlInputElement = input.unchecked_into();
            let Some(sign_url) = sign_url(&input, form_attribute.as_deref()) else { continue };
            let mut files = Vec::new();
            if let Some(list) = input.files() {
                for index in 0..list.length() {
                    files.extend(list.get(index));
                }
            }
            let count = files.len();
            fields.push(Field {
                name: input.name(),
                input,
                sign_url,
                files,
                first_file,
                instructions: None,
                reused: false,
                stale: false,
                signing: None,
                message: false,
            });
            first_file += count;
        }
        Fields(fields)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether `input` is upgraded and, if so, its signer's URL (`None` inside: django-s3file's
/// markup, which needs no signer).
pub fn sign_url(input: &HtmlInputElement, form_attribute: Option<&str>) -> Option<Option<String>> {
    let presigned = dom::matches(input, ".s3file[data-url]");
    let input_attribute = input.get_attribute("data-s3file");
    match source(presigned, input_attribute.as_deref(), form_attribute)? {
        Source::Signer(url) => Some(Some(url.into())),
        Source::Presigned => Some(None),
    }
}

/// Starts uploading the files of `fields`, of `form`. `earlier` is the form's last attempt, if
/// it failed: its instructions and stored keys serve this one where they still can.
pub fn start(form: &HtmlFormElement, Fields(mut fields): Fields, then: Then, earlier: Option<Shared>) {
    let now = Date::now();
    let mut stored_keys = Vec::new();
    for field in &mut fields {
        let reused =
            earlier.as_ref().and_then(|earlier| with(earlier, |earlier| earlier.reusable(field, now)));
        let mut keys = Vec::new();
        if let Some(Some((instructions, earlier_keys))) = reused {
            field.instructions = Some(instructions);
            field.reused = true;
            keys = earlier_keys;
        }
        keys.resize(field.files.len(), None);
        stored_keys.append(&mut keys);
    }
    let mut stored_keys = stored_keys.into_iter();
    if let Some(earlier) = &earlier {
        with(earlier, Attempt::clear_messages);
    }

    let mut file_fields = Vec::new();
    let mut queued = Vec::new();
    let mut sizes = Vec::new();
    let mut sending = 0;
    for (index, field) in fields.iter().enumerate() {
        for file in &field.files {
            let key = stored_keys.next().flatten();
            // Progress counts the files this attempt sends.
            sizes.push((index, if key.is_some() { 0.0 } else { file.size() }));
            sending += usize::from(key.is_none());
            file_fields.push(index);
            queued.push((index, key));
        }
    }
    let limit = settings::concurrency(form.get_attribute("data-s3file-concurrency").as_deref());
    let queue = Queue::new(queued, limit);
    let mut tally = Tally::new(sizes);
    for file in 0..file_fields.len() {
        if queue.is_stored(file) {
            tally.finish(file);
        }
    }
    let total = tally.form().total;
    let mut sides = Vec::new();
    sides.resize_with(file_fields.len(), Side::default);

    effects::busy(form, true);
    let attempt = Rc::new(RefCell::new(Attempt {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        form: form.clone(),
        then: Some(then),
        transfers: Vec::new(),
        sides,
        retries: settings::retries(form.get_attribute("data-s3file-retries").as_deref()),
        stall: Stall(settings::stall_ms(form.get_attribute("data-s3file-stall-timeout").as_deref())),
        paused: false,
        fields,
        file_fields,
        queue,
        tally,
        failures: Vec::new(),
        announced_progress: 0.0,
        over: false,
    }));
    crate::page::register(&attempt);

    with(&attempt, |state| {
        let form_max_size = form.get_attribute("data-s3file-max-size");
        for index in 0..state.fields.len() {
            if let Err(failure) = state.prepare(index, form_max_size.as_deref()) {
                state.queue.refused(index);
                state.failures.push((index, failure));
            }
        }
    });

    effects::started(form, sending, total);
    effects::announce(form, &Announcement::Uploading { files: sending }.text());
    pump(&attempt);
}

impl Attempt {
    /// Aborts the multipart uploads of the files not stored, on S3 through the signer, and
    /// forgets them: the user gave up on them.
    fn abandon_uploads(&mut self) {
        for file in 0..self.file_fields.len() {
            if self.queue.is_stored(file) {
                continue;
            }
            let Some((field, blob, target)) = self.file(file) else { continue };
            let (Some(url), Some(upload)) = (&field.sign_url, target.multipart()) else { continue };
            effects::abandon(&sibling(url, "abort"), &target.key, &upload.upload_id, &upload.ticket);
            effects::remember(&field.name, blob, None, "", "");
        }
    }

    /// The instructions and keys of this (failed) attempt that can serve `field` of a new one
    /// at `now`: those of the same input, for the same files, still valid.
    fn reusable(&mut self, field: &Field, now: f64) -> Option<(Rc<Instructions>, Vec<Option<String>>)> {
        let index = self.fields.iter().position(|earlier| earlier.input == field.input)?;
        let earlier = self.fields.get(index)?;
        let instructions =
            earlier.instructions.clone().filter(|_| !earlier.stale && earlier.files == field.files)?;
        retry::reusable(instructions.expires_at, now).then(|| (instructions, self.queue.keys(index)))
    }

    /// Clears this attempt's validity messages, so the form gets past the browser's validation.
    pub fn clear_messages(&mut self) {
        for field in &mut self.fields {
            if field.message {
                field.input.set_custom_validity("");
                field.message = false;
            }
        }
    }

    /// Other files were chosen in `input`: what this attempt kept for it concerns files that
    /// are gone.
    pub fn forget(&mut self, input: &HtmlInputElement) {
        for field in &mut self.fields {
            if field.input == *input {
                field.stale = true;
                if field.message {
                    field.input.set_custom_validity("");
                    field.message = false;
                }
            }
        }
    }

    /// Checks the sizes of field `index`'s files, then gets its instructions: reused, from the
    /// input for django-s3file's markup, or by asking the signer.
    fn prepare(&mut self, index: usize, form_max_size: Option<&str>) -> Result<(), Failure> {
        let Some(field) = self.fields.get_mut(index) else { return Ok(()) };
        if field.instructions.is_some() {
            self.release(index);
            return Ok(());
        }
        let max_size =
            settings::max_size(field.input.get_attribute("data-s3file-max-size").as_deref(), form_max_size);
        if let Some(max) = max_size {
            if let Some(file) = field.files.iter().find(|file| file.size() > max as f64) {
                return Err(Failure::TooLarge { file: file.name(), size: file.size() as u64, max });
            }
        }
        let Some(url) = &field.sign_url else {
            field.instructions = Some(Rc::new(instructions::from_markup(&field.input, &field.files)));
            self.release(index);
            return Ok(());
        };
        let accept = field.input.get_attribute("accept").filter(|accept| !accept.trim_ascii().is_empty());
        let restrictions = Restrictions { accept: accept.as_deref(), max_size };
        field.signing = Some(sign::request(url, &field.name, &field.files, &restrictions, self.id, index)?);
        Ok(())
    }

    /// The file numbered `file` among the form's files: its field, the file, its target.
    fn file(&self, file: usize) -> Option<(&Field, &File, &Target)> {
        let field = self.fields.get(*self.file_fields.get(file)?)?;
        let index = file.checked_sub(field.first_file)?;
        Some((field, field.files.get(index)?, field.instructions.as_ref()?.files.get(index)?))
    }

    /// Field `index` is signed: each of its files not stored yet may go, a multipart upload
    /// once it has part URLs. A multipart upload is kept in the browser's storage until it
    /// completes, so a reload can resume it.
    fn release(&mut self, index: usize) {
        let Some(field) = self.fields.get(index) else { return };
        for file in field.first_file..field.first_file + field.files.len() {
            if !self.queue.is_unsigned(file) {
                continue;
            }
            let Some((field, blob, target)) = self.file(file) else { continue };
            let size = blob.size();
            let (parts, held) = match (target.multipart(), &field.instructions) {
                (Some(upload), Some(instructions)) => {
                    let (key, signature) = (Some(target.key.as_str()), &instructions.signature);
                    effects::remember(&field.name, blob, key, signature, &upload.upload_id);
                    (Parts::new(size, upload.part_size, upload.part_count, &upload.done), true)
                }
                _ => (Parts::new(size, size, 1, &[]), false),
            };
            self.queue.signed(file, parts, held);
            let sent = self.queue.sent(file);
            self.tally.record(file, sent);
            if held {
                self.ask_signer(file);
            }
        }
    }

    /// Asks the signer for what the multipart upload of `file` needs next: URLs for the parts
    /// not stored yet (up to 1,000 at a time), or, once all are, its completion.
    fn ask_signer(&mut self, file: usize) {
        let remaining = self.queue.remaining(file);
        let Some((field, _, target)) = self.file(file) else { return };
        let (Some(url), Some(upload)) = (&field.sign_url, target.multipart()) else { return };
        let parts: Array = remaining.iter().take(1000).map(|number| JsValue::from(*number)).collect();
        let (name, call) = if remaining.is_empty() {
            ("complete", Call::Complete(file))
        } else {
            ("parts", Call::Urls(file))
        };
        let url = sibling(url, name);
        let body = effects::multipart_body(&target.key, &upload.upload_id, &upload.ticket, &parts);
        match (Request::json(&url, &body, self.id, call), self.sides.get_mut(file)) {
            (Some(request), Some(side)) => side.asking = Some(request),
            _ => self.fail(file, Failure::SignUnreachable { url }),
        }
    }

    /// Starts sending part `number` of `file`; for a multipart upload whose URL for that part is
    /// missing or about to expire, holds the file and asks for fresh URLs instead.
    fn start_transfer(&mut self, file: usize, number: u32) -> Result<(), Failure> {
        let now = Date::now();
        let Some((field, blob, target)) = self.file(file) else { return Ok(()) };
        let markup = field.instructions.as_ref().is_some_and(|instructions| instructions.markup);
        let size = blob.size();
        let mut part = Part { number, presigned: &JsValue::UNDEFINED, range: (0.0, size) };
        if let Some(upload) = target.multipart() {
            let start = f64::from(number - 1) * upload.part_size;
            part.range = (start, (start + upload.part_size).min(size));
            let side = self.sides.get(file);
            let fresh = side.filter(|side| side.fresh_until > now);
            let presigned =
                fresh.and_then(|side| side.urls.get(number as usize - 1)).filter(|url| url.is_object());
            match presigned {
                Some(presigned) => part.presigned = presigned,
                None => {
                    let asking = side.is_some_and(|side| side.asking.is_some());
                    self.queue.part_failed(file, number, false);
                    self.queue.wake(file, number);
                    self.queue.hold(file, true);
                    if !asking {
                        self.ask_signer(file);
                    }
                    return Ok(());
                }
            }
        }
        let request = upload::start(blob, target, &part, markup, (self.id, file), &self.stall)?;
        self.transfers.push((file, number, Some(request)));
        Ok(())
    }

    /// `file` cannot be stored: its transfers stop, and the failure is reported at the end.
    fn fail(&mut self, file: usize, failure: Failure) {
        self.transfers.retain(|(other, _, _)| *other != file);
        if let Some(side) = self.sides.get_mut(file) {
            side.asking = None;
        }
        self.queue.failed(file);
        let field = self.file_fields.get(file).copied().unwrap_or_default();
        self.failures.push((field, failure));
    }

    /// A transfer (or, with part 0, a request to the signer) of `file` failed with `verdict`:
    /// answers whether it will be tried again (after a delay), which it is while the tries
    /// last and the failure is transient.
    fn retry(&mut self, file: usize, number: u32, verdict: Verdict) -> bool {
        let tries = if number == 0 {
            let Some(side) = self.sides.get_mut(file) else { return false };
            side.failures += 1;
            side.failures
        } else {
            self.queue.part_failed(file, number, true)
        };
        let multipart = self.file(file).is_some_and(|(_, _, target)| target.multipart().is_some());
        let again = match verdict {
            Verdict::Retry => true,
            // A part's URL expired: fresh ones are asked for while it waits. A whole file's
            // policy or URL can only be renewed by signing again, at the next submit.
            Verdict::Resign => multipart,
            Verdict::Fatal => false,
        };
        if !again || tries > self.retries {
            return false;
        }
        if let Some(side) = self.sides.get_mut(file).filter(|_| verdict == Verdict::Resign) {
            side.fresh_until = 0.0;
        }
        let delay = backoff::delay_ms(tries, Math::random());
        effects::later(delay, self.id, Call::Wake(file, number).number());
        true
    }
    /// What a `progress` event of `file` reports, as the tally stands.
    fn progress_notice(&mut self, file: usize, file_progress: f64) -> Option<ProgressNotice> {
        let field_index = *self.file_fields.get(file)?;
        let of_form = self.tally.form();
        let quarter = quarter_passed(self.announced_progress, of_form.progress);
        self.announced_progress = of_form.progress;
        let (field, blob, _) = self.file(file)?;
        Some(ProgressNotice {
            form: self.form.clone(),
            input: field.input.clone(),
            file: blob.clone(),
            of_form,
            of_input: self.tally.input(field_index),
            file_progress,
            quarter,
        })
    }

    /// Ends the attempt and says what to do: hand the keys over, or report the failures.
    fn conclude(&mut self) -> Option<Conclusion> {
        if self.over {
            return None;
        }
        self.over = true;
        let then = self.then.take()?;
        let inputs: Array = self.fields.iter().map(|field| JsValue::from(&field.input)).collect();
        if self.failures.is_empty() {
            let entries = Array::new();
            let keys = Object::new();
            for (index, field) in self.fields.iter().enumerate() {
                let (Some(field_keys), Some(instructions)) =
                    (self.queue.all_keys(index), &field.instructions)
                else {
                    continue;
                };
                for (name, value) in hidden_fields(&field.name, &field_keys, &instructions.signature) {
                    entries.push(&name.into());
                    entries.push(&value.into());
                }
                let list: Array = field_keys.iter().map(|key| JsValue::from(key.as_str())).collect();
                js::set(&keys, &field.name, &list);
            }
            return Some(Conclusion::Stored { form: self.form.clone(), then, inputs, entries, keys });
        }
        let mut reports = Vec::new();
        let mut first_input = None;
        for (index, failure) in core::mem::take(&mut self.failures) {
            let Some(field) = self.fields.get_mut(index) else { continue };
            let message = failure.message();
            // The first failure of each input becomes its validity message; it stays until
            // other files are chosen or the form is submitted again.
            if !field.message {
                field.input.set_custom_validity(&message);
                field.message = true;
            }
            first_input.get_or_insert_with(|| field.input.clone());
            reports.push((
                field.input.clone(),
                field.name.clone(),
                message,
                failure.file_name().map(String::from),
            ));
        }
        Some(Conclusion::Failed { form: self.form.clone(), then, reports, first_input })
    }
}

/// An XHR event of the attempt's request `call`: the end of a request (`end`), or an upload's
/// progress.
pub fn answered(attempt: &Shared, call: Call, event: JsValue, end: bool) {
    match call {
        Call::Sign(field) => on_signed(attempt, field),
        Call::Send(file, part) if end => on_sent(attempt, file, part, event),
        Call::Send(file, part) => on_send_progress(attempt, file, part, event),
        Call::Urls(file) | Call::Complete(file) => on_signer_answer(attempt, file, event),
        Call::Wake(file, part) => {
            with(attempt, |state| match part {
                0 => state.ask_signer(file),
                _ => state.queue.wake(file, part),
            });
            pump(attempt);
        }
        Call::Online => {
            with(attempt, |state| state.paused = false);
            pump(attempt);
        }
    }
}

fn on_signed(attempt: &Shared, index: usize) {
    with(attempt, |state| {
        let Some(field) = state.fields.get_mut(index) else { return };
        let (Some(request), Some(url)) = (field.signing.take(), &field.sign_url) else { return };
        match sign::read_answer(url, &request, field.files.len()) {
            Ok(instructions) => {
                field.instructions = Some(Rc::new(instructions));
                state.release(index);
            }
            Err(failure) => {
                state.queue.refused(index);
                state.failures.push((index, failure));
            }
        }
    });
    pump(attempt);
}

/// Starts uploads while slots are free; ends the attempt once every file is stored or failed.
fn pump(attempt: &Shared) {
    let over = with(attempt, |state| {
        if state.over || state.paused {
            return false;
        }
        // Offline, nothing would get through: wait until the browser is back.
        if !effects::online(state.id, Call::Online.number()) {
            state.paused = true;
            return false;
        }
        while let Some((file, part)) = state.queue.start_next() {
            if let Err(failure) = state.start_transfer(file, part) {
                state.fail(file, failure);
            }
        }
        state.queue.is_over()
    });
    if over == Some(true) {
        finish(attempt);
    }
}

/// What a `progress` event reports, gathered while the attempt is borrowed.
struct ProgressNotice {
    form: HtmlFormElement,
    input: HtmlInputElement,
    file: File,
    of_form: Progress,
    of_input: Progress,
    file_progress: f64,
    quarter: Option<u8>,
}

impl ProgressNotice {
    /// Dispatches `progress` on the form, then on the input, as django-s3file does.
    fn dispatch(&self, original: &JsValue) {
        let (form, input) = (self.of_form, self.of_input);
        #[rustfmt::skip]
        effects::progress(
            &self.form, &self.input, &self.file, self.file_progress, original,
            form.progress, form.loaded, form.total, input.progress, input.loaded, input.total,
        );
        if let Some(quarter) = self.quarter {
            effects::announce(&self.form, &Announcement::Quarter(quarter).text());
        }
    }
}

fn on_send_progress(attempt: &Shared, file: usize, part: u32, event: JsValue) {
    let notice = with(attempt, |state| {
        let progress: &ProgressEvent = event.unchecked_ref();
        // The counts cover the whole request body (a POST's policy fields too): the fraction
        // applies to the part's own bytes.
        let sent =
            if progress.length_computable() { fraction(progress.loaded(), progress.total()) } else { 0.0 };
        state.queue.progress(file, part, sent);
        let sent = state.queue.sent(file);
        let file_progress = state.tally.record(file, sent);
        state.progress_notice(file, file_progress)
    });
    if let Some(Some(notice)) = notice {
        notice.dispatch(&event);
    }
}

/// The file is stored under `key`: what its last `progress` and `s3file:done` events report.
fn store(state: &mut Attempt, file: usize, key: String) -> Option<(ProgressNotice, (String, String))> {
    state.queue.stored(file, key.clone());
    state.tally.finish(file);
    let (field, blob, target) = state.file(file)?;
    if target.multipart().is_some() {
        effects::remember(&field.name, blob, None, "", "");
    }
    let name = field.name.clone();
    // The last progress event may come before the body is complete; this one brings the file,
    // and with the last file the form, to 1.
    Some((state.progress_notice(file, 1.0)?, (name, key)))
}

fn on_sent(attempt: &Shared, file: usize, part: u32, event: JsValue) {
    let stored = with(attempt, |state| {
        let transfer = state.transfers.iter_mut().find(|(f, p, _)| (*f, *p) == (file, part))?;
        let request = transfer.2.take()?;
        state.transfers.retain(|(_, _, request)| request.is_some());
        let field_index = *state.file_fields.get(file)?;
        let (field, blob, target) = state.file(file)?;
        let decode_key = field.instructions.as_ref().is_some_and(|instructions| instructions.markup);
        let multipart = target.multipart().is_some();
        match upload::read_answer(&request, blob, target, decode_key) {
            Ok(key) => {
                let complete = state.queue.part_done(file, part);
                if !complete {
                    let sent = state.queue.sent(file);
                    let file_progress = state.tally.record(file, sent);
                    return state.progress_notice(file, file_progress).map(|notice| (notice, None));
                }
                if multipart {
                    state.ask_signer(file);
                    return None;
                }
                store(state, file, key).map(|(notice, done)| (notice, Some(done)))
            }
            Err((_, _)) if request.status() == 0 && !effects::online(state.id, Call::Online.number()) => {
                // Offline: not the part's fault. It goes again once the browser is back.
                state.queue.part_failed(file, part, false);
                state.queue.wake(file, part);
                state.paused = true;
                None
            }
            Err((failure, verdict)) => {
                if !state.retry(file, part, verdict) {
                    let field = state.fields.get_mut(field_index)?;
                    field.stale |= field.reused && matches!(failure, Failure::UploadRefused { .. });
                    state.fail(file, failure);
                }
                let sent = state.queue.sent(file);
                state.tally.record(file, sent);
                None
            }
        }
    });
    if let Some(Some((notice, done))) = stored {
        notice.dispatch(&event);
        if let Some((name, key)) = done {
            effects::stored(&notice.input, &key, &notice.file, &name);
        }
    }
    pump(attempt);
}

/// The signer answered a request for part URLs or for completion of the file's upload.
fn on_signer_answer(attempt: &Shared, file: usize, event: JsValue) {
    let stored = with(attempt, |state| {
        let request = state.sides.get_mut(file)?.asking.take()?;
        let status = request.status();
        let answer = request.xhr.response();
        let (field, _, target) = state.file(file)?;
        let (url, key) = (field.sign_url.clone().unwrap_or_default(), target.key.clone());
        // Offline: asked again once the browser is back, without counting as a failure.
        if status == 0 && !effects::online(state.id, Call::Wake(file, 0).number()) {
            return None;
        }
        if !(200..300).contains(&status) {
            let verdict = backoff::verdict(status, None, None);
            if !state.retry(file, 0, verdict) {
                let reason = js::text(&answer, "error");
                let failure = if status == 0 {
                    Failure::SignUnreachable { url }
                } else {
                    Failure::SignRefused { url, status, reason }
                };
                state.fail(file, failure);
            }
            return None;
        }
        if state.queue.remaining(file).is_empty() {
            return store(state, file, key);
        }
        // Part URLs: `{parts: [{n, url, headers}], expires}`.
        let side = state.sides.get_mut(file)?;
        side.failures = 0;
        let expires = js::get(&answer, "expires").as_f64().unwrap_or_default() * 1000.0;
        let now = Date::now();
        side.fresh_until = expires - retry::MARGIN_MS.min((expires - now) / 2.0);
        let parts = js::get(&answer, "parts");
        for part in parts.dyn_ref::<Array>().map(Array::iter).into_iter().flatten() {
            let index = js::get(&part, "n").as_f64().unwrap_or_default() as usize;
            if (1..=10_000).contains(&index) {
                if side.urls.len() < index {
                    side.urls.resize(index, JsValue::UNDEFINED);
                }
                if let Some(slot) = side.urls.get_mut(index - 1) {
                    *slot = part;
                }
            }
        }
        state.queue.hold(file, false);
        None
    });
    if let Some(Some((notice, (name, key)))) = stored {
        notice.dispatch(&event);
        effects::stored(&notice.input, &key, &notice.file, &name);
    }
    pump(attempt);
}

enum Conclusion {
    Stored {
        form: HtmlFormElement,
        then: Then,
        /// The upgraded inputs.
        inputs: Array,
        /// The form entries that stand in for them, names and values alternating.
        entries: Array,
        /// `{field: [key, …]}` for the JS API.
        keys: Object,
    },
    Failed {
        form: HtmlFormElement,
        then: Then,
        /// Each failure: its input, the input's name, the message, the file concerned.
        reports: Vec<(HtmlInputElement, String, String, Option<String>)>,
        first_input: Option<HtmlInputElement>,
    },
}

/// Ends the attempt: hands the keys over, or the form back with the reasons.
fn finish(attempt: &Shared) {
    let Some(Some(conclusion)) = with(attempt, Attempt::conclude) else { return };
    match conclusion {
        Conclusion::Stored { form, then, inputs, entries, keys } => {
            crate::page::unregister(attempt);
            // The form is itself again before it goes, in case the page stays (a `target`
            // elsewhere, the back-forward cache).
            effects::busy(&form, false);
            effects::announce(&form, &Announcement::Complete.text());
            match then {
                Then::Submit(submitter) => effects::hand_over(&form, submitter, &inputs, &entries, true),
                Then::Settle { resolve, .. } => {
                    effects::hand_over(&form, None, &inputs, &entries, false);
                    js::call(&resolve, &keys);
                }
            }
        }
        Conclusion::Failed { form, then, reports, first_input } => {
            effects::busy(&form, false);
            for (input, field, message, file_name) in &reports {
                effects::failed(input, message, field, file_name.as_deref());
            }
            let Some((_, _, message, _)) = reports.first() else { return };
            effects::announce(&form, &Announcement::Failed(message).text());
            if let Some(input) = first_input {
                input.report_validity();
            }
            if let Then::Settle { reject, .. } = then {
                js::call(&reject, &js_sys::Error::new(message));
            }
        }
    }
}

/// Stops the attempt: running requests are aborted, what is stored is kept for the next
/// attempt. Answers whether there was an attempt to stop.
pub fn abort(attempt: &Shared) -> bool {
    let stopped = with(attempt, |state| {
        if state.over {
            return None;
        }
        state.over = true;
        // Dropping the requests aborts them without calling back.
        state.transfers.clear();
        state.sides.iter_mut().for_each(|side| side.asking = None);
        state.abandon_uploads();
        for field in &mut state.fields {
            field.signing = None;
        }
        state.queue.stop();
        Some((state.form.clone(), state.then.take()))
    });
    let Some(Some((form, then))) = stopped else { return false };
    effects::busy(&form, false);
    effects::announce(&form, &Announcement::Stopped.text());
    if let Some(Then::Settle { reject, .. }) = then {
        let error = js_sys::Error::new("the upload was aborted");
        error.set_name("AbortError");
        js::call(&reject, &error);
    }
    true
}
