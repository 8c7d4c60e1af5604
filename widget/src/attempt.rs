//! One attempt at uploading a form's files: sign each input's files (or read django-s3file's
//! instructions from the input), upload them a few at a time, then hand the keys over: the form
//! is submitted natively with them, or, for the JS API, they are written into the form.
//!
//! On failure the form is handed back with the reasons, and the attempt stays with the page:
//! the next attempt for the form takes each input's instructions and the keys of its stored
//! files from it, so it sends only what failed (see `retry`).
//!
//! The attempt is driven by its requests' XHR events, which reach it through [`answered`]. It
//! is borrowed (see `page`) only between them, never while page code runs: events are
//! dispatched, and the form submitted, after the borrow ends, so a listener may call `abort()`
//! or start another upload.

use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use js_sys::{Array, Date, Function, Math, Object};
use wasm_bindgen::prelude::*;
use web_sys::{File, HtmlElement, HtmlFormElement, HtmlInputElement};

use crate::announcement::{quarter_passed, Announcement};
use crate::backoff::{self, Verdict};
use crate::endpoint::{sibling, source, Source};
use crate::failure::Failure;
use crate::instructions::{self, Instructions, Target, Upload};
use crate::page::{self, Key};
use crate::part_urls::PartUrls;
use crate::parts::Parts;
use crate::progress::Progress;
use crate::queue::Queue;
use crate::sign::{self, Restrictions};
use crate::submission::hidden_fields;
use crate::upload::{self, Part};
use crate::xhr::{self, Call, Xhr};
use crate::{dom, effects, js, retry, settings};

/// What to do with the keys once every file is stored.
pub enum Then {
    /// Submit the form natively, as `submitter` would have.
    Submit(Option<HtmlElement>),
    /// Write the keys into the form and settle the JS API's promise.
    Settle { resolve: Function, reject: Function },
}

/// An upgraded file input that takes part in the attempt.
pub struct Field {
    input: HtmlInputElement,
    /// The input's `name`: the form field the keys are submitted as.
    name: String,
    /// The signer's URL; `None` for django-s3file's markup, whose instructions are on the input.
    sign_url: Option<String>,
    /// The input's files, taken at submit (choosing other files meanwhile gives the input a new
    /// list), each with its target once the field is signed.
    files: Vec<(File, Option<Target>)>,
    /// The number of the field's first file among the form's files.
    first_file: usize,
    instructions: Option<Instructions>,
    /// The instructions come from an earlier attempt.
    reused: bool,
    /// The instructions must not serve another attempt: the store refused one of their
    /// uploads after a reuse, or other files were chosen.
    stale: bool,
    /// The input shows one of this attempt's failures as its validity message.
    message: bool,
}

pub struct Attempt {
    /// The number its requests' events come back with.
    pub id: u32,
    pub form: HtmlFormElement,
    then: Option<Then>,
    fields: Vec<Field>,
    /// Files are numbered across the form, in field order.
    queue: Queue,
    /// The part URLs of its multipart uploads.
    urls: PartUrls,
    /// Tries after the first, per transfer.
    retries: u32,
    /// How long an upload may go without progress before it is abandoned as stalled, in ms.
    stall: f64,
    /// The browser went offline: nothing starts until it is back.
    paused: bool,
    /// Each failure and the field it concerns.
    failures: Vec<(usize, Failure)>,
    /// The form's progress when it was last announced.
    announced_progress: f64,
    /// Whether the attempt is over: failed or stopped, it stays with the page for the next.
    pub over: bool,
}

/// The number of the next attempt.
static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// The upgraded file inputs of `form` that have files to upload: named, enabled, with files, as
/// the browser would submit them.
pub fn fields(form: &HtmlFormElement) -> Vec<Field> {
    let form_attribute = form.get_attribute("data-s3file");
    let mut fields = Vec::new();
    let mut first_file = 0;
    for input in js::items(&effects::file_inputs(form)) {
        let input: HtmlInputElement = input.unchecked_into();
        let Some(sign_url) = sign_url(&input, form_attribute.as_deref()) else { continue };
        let files: Vec<_> =
            js::items(&js::get(&input, "files")).map(|file| (file.unchecked_into(), None)).collect();
        let count = files.len();
        fields.push(Field {
            name: js::name(&input),
            input,
            sign_url,
            files,
            first_file,
            instructions: None,
            reused: false,
            stale: false,
            message: false,
        });
        first_file += count;
    }
    fields
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

/// Starts uploading the files of `fields`, of `form`, in place of the form's last attempt,
/// whose instructions and stored keys serve this one where they still can (it failed, or was
/// stopped).
pub fn start(form: &HtmlFormElement, mut fields: Vec<Field>, then: Then) {
    let Some(mut all) = page::attempts() else { return };
    let now = Date::now();
    let mut earlier = all.iter_mut().find(|earlier| earlier.form == *form);
    let limit = settings::concurrency(form.get_attribute("data-s3file-concurrency").as_deref());
    let mut queue = Queue::new(limit);
    let mut sending = 0;
    for (index, field) in fields.iter_mut().enumerate() {
        // The earlier attempt's file numbers of the field's files, when they are reused.
        let mut reused = None;
        if let Some(earlier) = &mut earlier {
            if let Some(first_file) = earlier.reuse(field, now) {
                reused = Some((earlier, first_file));
            }
        }
        for (number, (file, _)) in field.files.iter().enumerate() {
            let key = reused.as_mut().and_then(|(earlier, first)| earlier.queue.take_key(*first + number));
            sending += usize::from(key.is_none());
            queue.add(index, file.size(), key);
        }
    }
    if let Some(earlier) = earlier {
        earlier.clear_messages();
    }
    let total = queue.totals(None).total;

    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    // In place of the form's last attempt; attempts of forms that left the page stop.
    all.retain(|other| {
        let keep = other.form != *form && other.form.is_connected();
        if !keep {
            xhr::stop_requests(other.id, None);
        }
        keep
    });
    all.push(Attempt {
        id,
        form: form.clone(),
        then: Some(then),
        urls: PartUrls::default(),
        retries: settings::retries(form.get_attribute("data-s3file-retries").as_deref()),
        stall: settings::stall_ms(form.get_attribute("data-s3file-stall-timeout").as_deref()),
        paused: false,
        fields,
        queue,
        failures: Vec::new(),
        announced_progress: 0.0,
        over: false,
    });
    if let Some(state) = all.last_mut() {
        let form_max_size = form.get_attribute("data-s3file-max-size");
        for index in 0..state.fields.len() {
            if let Err(failure) = state.prepare(index, form_max_size.as_deref()) {
                state.queue.refused(index);
                state.failures.push((index, failure));
            }
        }
    }
    drop(all);

    effects::busy(form, true);
    effects::started(form, sending, total);
    effects::announce(form, &Announcement::Uploading { files: sending }.text());
    pump(id);
}

impl Attempt {
    /// Aborts the multipart uploads of the files not stored, on S3 through the signer, and
    /// forgets them: the user gave up on them.
    fn abandon_uploads(&mut self) {
        for file in 0..self.queue.file_count() {
            if self.queue.is_stored(file) {
                continue;
            }
            let Some((field, blob, target)) = self.file(file) else { continue };
            let (Some(url), Some(multipart)) = (&field.sign_url, target.multipart()) else { continue };
            effects::abandon(&sibling(url, "abort"), &target.key, multipart);
            effects::forget(&field.name, blob);
        }
    }

    /// Moves the instructions of this (failed) attempt that can serve `field` of a new one at
    /// `now` to it, with its files' targets: those of the same input, for the same files, still
    /// valid. Answers the number of the field's first file here, whose key, and those of the
    /// next, the new attempt takes for the files stored already.
    fn reuse(&mut self, field: &mut Field, now: f64) -> Option<usize> {
        let earlier = self.fields.iter_mut().find(|earlier| earlier.input == field.input)?;
        let same = earlier.files.len() == field.files.len()
            && earlier.files.iter().zip(&field.files).all(|(earlier, file)| earlier.0 == file.0);
        let usable = earlier.instructions.as_ref().is_some_and(|instructions| {
            !earlier.stale && same && retry::reusable(instructions.expires_at, instructions.multipart, now)
        });
        field.instructions = Some(earlier.instructions.take().filter(|_| usable)?);
        field.reused = true;
        for (file, earlier) in field.files.iter_mut().zip(&mut earlier.files) {
            file.1 = earlier.1.take();
        }
        Some(earlier.first_file)
    }

    /// Clears this attempt's validity messages, so the form gets past the browser's validation.
    pub fn clear_messages(&mut self) {
        for field in &mut self.fields {
            field.clear_message();
        }
    }

    /// Other files were chosen in `input`: what this attempt kept for it concerns files that
    /// are gone.
    pub fn forget(&mut self, input: &HtmlInputElement) {
        for field in &mut self.fields {
            if field.input == *input {
                field.stale = true;
                field.clear_message();
            }
        }
    }

    /// Checks the sizes of field `index`'s files, then gets its instructions: reused, from the
    /// input for django-s3file's markup, or by asking the signer.
    fn prepare(&mut self, index: usize, form_max_size: Option<&str>) -> Result<(), Failure> {
        let Some(field) = self.fields.get_mut(index) else { return Ok(()) };
        if field.instructions.is_none() {
            let max_size = settings::max_size(
                field.input.get_attribute("data-s3file-max-size").as_deref(),
                form_max_size,
            );
            if let Some(max) = max_size {
                if let Some((file, _)) = field.files.iter().find(|(file, _)| file.size() > max as f64) {
                    return Err(Failure::TooLarge { file: js::name(file), size: file.size() as u64, max });
                }
            }
            if let Some(url) = &field.sign_url {
                let accept =
                    field.input.get_attribute("accept").filter(|accept| !accept.trim_ascii().is_empty());
                let restrictions = Restrictions { accept: accept.as_deref(), max_size };
                return sign::request(url, &field.name, &field.files, &restrictions, self.id, index);
            }
            field.instructions = Some(instructions::from_markup(&field.input, &mut field.files));
        }
        self.release(index);
        Ok(())
    }

    /// The file numbered `file` among the form's files: its field, the file, its target.
    fn file(&self, file: usize) -> Option<(&Field, &File, &Target)> {
        let field = self.fields.get(self.queue.field(file)?)?;
        let index = file.checked_sub(field.first_file)?;
        field.instructions.as_ref()?;
        let (blob, target) = field.files.get(index)?;
        Some((field, blob, target.as_ref()?))
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
            let mut part_count = None;
            let (parts, held) = match (&target.upload, &field.instructions) {
                (Upload::Multipart { spec, part_size, part_count: count }, Some(instructions)) => {
                    effects::remember(&field.name, blob, &target.key, &instructions.signature, spec);
                    part_count = Some(*count);
                    let mut parts = Parts::new(size, *part_size, *count);
                    let done = js::get(spec, "done");
                    if Array::is_array(&done) {
                        for number in js::items(&done).filter_map(|number| number.as_f64()) {
                            parts.resumed(number as u32);
                        }
                    }
                    (parts, true)
                }
                _ => (Parts::new(size, size, 1), false),
            };
            if let Some(count) = part_count {
                self.urls.expect(file, count);
            }
            self.queue.signed(file, parts, held);
            self.queue.record(file);
            if held {
                self.ask_signer(file);
            }
        }
    }

    /// Asks the signer for what the multipart upload of `file` needs next: URLs for the parts
    /// not stored yet (up to 1,000 at a time), or, once all are, its completion.
    fn ask_signer(&mut self, file: usize) {
        let Some(parts) = self.queue.parts(file) else { return };
        let complete = parts.is_complete();
        let numbers = Array::new();
        for number in parts.remaining().take(1000) {
            numbers.push(&JsValue::from(number));
        }
        let Some((field, _, target)) = self.file(file) else { return };
        let (Some(url), Some(multipart)) = (&field.sign_url, target.multipart()) else { return };
        let (name, call) =
            if complete { ("complete", Call::Complete(file)) } else { ("parts", Call::Urls(file)) };
        let url = sibling(url, name);
        let body = effects::multipart_body(&target.key, multipart, &numbers);
        if !call.ask(self.id, &url, &body) {
            return self.fail(file, Failure::SignUnreachable { url });
        }
        if let Some(parts) = self.queue.parts(file) {
            parts.asking = true;
        }
    }

    /// Starts sending part `number` of `file`; for a multipart upload whose URL for that part is
    /// missing or about to expire, holds the file and asks for fresh URLs instead.
    fn start_transfer(&mut self, file: usize, number: u32) -> Result<(), Failure> {
        let now = Date::now();
        let Some(parts) = self.queue.parts(file) else { return Ok(()) };
        let (range, fresh, asking) = (parts.range(number), parts.fresh_until > now, parts.asking);
        let Some((field, blob, target)) = self.file(file) else { return Ok(()) };
        let multipart = target.multipart().is_some();
        let presigned = if multipart && fresh { self.urls.get(file, number) } else { JsValue::UNDEFINED };
        if multipart && !presigned.is_object() {
            self.queue.part_failed(file, number, false);
            self.queue.wake(file, number);
            self.queue.hold(file, true);
            if !asking {
                self.ask_signer(file);
            }
            return Ok(());
        }
        let part = Part { presigned: &presigned, range };
        let call = (self.id, Call::Send(file, number));
        upload::start(blob, target, &part, field.sign_url.is_none(), call, self.stall)
    }

    /// `file` cannot be stored: its requests stop, and the failure is reported at the end.
    fn fail(&mut self, file: usize, failure: Failure) {
        xhr::stop_requests(self.id, Some(file));
        self.queue.failed(file);
        let field = self.queue.field(file).unwrap_or_default();
        self.failures.push((field, failure));
    }

    /// A transfer (or, with part 0, a request to the signer) of `file` failed with `verdict`:
    /// answers whether it will be tried again (after a delay), which it is while the tries
    /// last and the failure is transient.
    fn retry(&mut self, file: usize, number: u32, verdict: Verdict) -> bool {
        let multipart = self.file(file).is_some_and(|(_, _, target)| target.multipart().is_some());
        let tries = if number == 0 {
            let Some(parts) = self.queue.parts(file) else { return false };
            parts.failures += 1;
            parts.failures
        } else {
            self.queue.part_failed(file, number, true)
        };
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
        if let Some(parts) = self.queue.parts(file).filter(|_| verdict == Verdict::Resign) {
            parts.fresh_until = 0.0;
        }
        let delay = backoff::delay_ms(tries, Math::random());
        effects::later(delay, self.id, Call::Wake(file, number).number());
        true
    }

    /// What a `progress` event of `file` reports, as the queue stands, with what it sent
    /// recorded; with `stored`, the file is stored under that key and the event brings it to 1.
    fn notice(&mut self, file: usize, stored: Option<String>) -> Option<Notice> {
        let file_progress = self.queue.record(file);
        let of_form = self.queue.totals(None);
        let quarter = quarter_passed(self.announced_progress, of_form.progress);
        self.announced_progress = of_form.progress;
        let (field, blob, _) = self.file(file)?;
        Some(Notice {
            form: self.form.clone(),
            input: field.input.clone(),
            file: blob.clone(),
            of_form,
            of_input: self.queue.totals(self.queue.field(file)),
            file_progress,
            quarter,
            stored: stored.map(|key| (field.name.clone(), key)),
        })
    }

    /// The file is stored under `key`: its last `progress` event, and its `s3file:done`.
    fn store(&mut self, file: usize, key: String) -> Option<Notice> {
        self.queue.stored(file, key.clone());
        let (field, blob, target) = self.file(file)?;
        if target.multipart().is_some() {
            effects::forget(&field.name, blob);
        }
        // The last progress event may come before the body is complete; this one brings the
        // file, and with the last file the form, to 1.
        self.notice(file, Some(key))
    }

    /// An upload's progress: part `part` of `file` sent the fraction `sent` of its body.
    fn progressed(&mut self, file: usize, part: u32, sent: f64) -> Option<Notice> {
        // The counts cover the whole request body (a POST's policy fields too): the fraction
        // applies to the part's own bytes.
        self.queue.progress(file, part, sent);
        self.notice(file, None)
    }

    /// Field `index` is signed, or failed to be.
    fn signed(&mut self, index: usize, xhr: &Xhr) {
        let Some(field) = self.fields.get_mut(index) else { return };
        let Some(url) = &field.sign_url else { return };
        match sign::read_answer(url, xhr, &mut field.files) {
            Ok(instructions) => {
                field.instructions = Some(instructions);
                self.release(index);
            }
            Err(failure) => {
                self.queue.refused(index);
                self.failures.push((index, failure));
            }
        }
    }

    /// Part `part` of `file` is over.
    fn sent(&mut self, file: usize, part: u32, xhr: &Xhr) -> Option<Notice> {
        let field_index = self.queue.field(file)?;
        let (field, blob, target) = self.file(file)?;
        let multipart = target.multipart().is_some();
        match upload::read_answer(xhr, blob, target, field.sign_url.is_none()) {
            Ok(key) => {
                if !self.queue.part_done(file, part) {
                    return self.notice(file, None);
                }
                if multipart {
                    self.ask_signer(file);
                    return None;
                }
                self.store(file, key)
            }
            Err(_) if xhr.status() == 0 && !effects::online(self.id, Call::Online.number()) => {
                // Offline: not the part's fault. It goes again once the browser is back.
                self.queue.part_failed(file, part, false);
                self.queue.wake(file, part);
                self.paused = true;
                None
            }
            Err((failure, verdict)) => {
                if !self.retry(file, part, verdict) {
                    let field = self.fields.get_mut(field_index)?;
                    field.stale |= field.reused && matches!(failure, Failure::UploadRefused { .. });
                    self.fail(file, failure);
                }
                self.queue.record(file);
                None
            }
        }
    }

    /// The signer answered a request for part URLs or for completion of the file's upload.
    fn signer_answered(&mut self, file: usize, xhr: &Xhr) -> Option<Notice> {
        let status = xhr.status();
        let parts = self.queue.parts(file)?;
        parts.asking = false;
        // Offline: asked again once the browser is back, without counting as a failure.
        if status == 0 && !effects::online(self.id, Call::Wake(file, 0).number()) {
            return None;
        }
        let answer = xhr.response();
        if !(200..300).contains(&status) {
            if !self.retry(file, 0, backoff::verdict(status, None, None)) {
                let (field, _, _) = self.file(file)?;
                let failure =
                    sign::signer_failure(field.sign_url.as_deref().unwrap_or_default(), status, &answer);
                self.fail(file, failure);
            }
            return None;
        }
        if parts.is_complete() {
            let key = self.file(file)?.2.key.clone();
            return self.store(file, key);
        }
        // Part URLs: `{parts: [{n, url, headers}], expires}`.
        parts.failures = 0;
        let expires = js::get(&answer, "expires").as_f64().unwrap_or_default() * 1000.0;
        parts.fresh_until = expires - retry::MARGIN_MS.min((expires - Date::now()) / 2.0);
        self.urls.keep(file, &answer);
        self.queue.hold(file, false);
        None
    }

    /// Ends the attempt and says what to do: hand the keys over, or report the failures.
    fn conclude(&mut self) -> Option<(HtmlFormElement, Then, Conclusion)> {
        if self.over {
            return None;
        }
        self.over = true;
        let then = self.then.take()?;
        let conclusion = if self.failures.is_empty() {
            let (inputs, entries, keys) = (Array::new(), Array::new(), Object::new());
            for (index, field) in self.fields.iter().enumerate() {
                inputs.push(&field.input);
                let Some(instructions) = &field.instructions else { continue };
                let stored = self.queue.stored_keys(index);
                hidden_fields(&field.name, stored.clone(), &instructions.signature, |name, value| {
                    entries.push(&name.into());
                    entries.push(&value.into());
                });
                js::set(&keys, &field.name, &stored.map(JsValue::from).collect::<Array>());
            }
            Conclusion::Stored { inputs, entries, keys }
        } else {
            let reports = Array::new();
            let mut first = None;
            for (index, failure) in core::mem::take(&mut self.failures) {
                let Some(field) = self.fields.get_mut(index) else { continue };
                let message = failure.message();
                // The first failure of each input becomes its validity message; it stays until
                // other files are chosen or the form is submitted again.
                if !field.message {
                    field.input.set_custom_validity(&message);
                    field.message = true;
                }
                effects::report(&reports, &field.input, &message, &field.name, failure.file_name());
                first.get_or_insert(message);
            }
            Conclusion::Failed { reports, message: first.unwrap_or_default() }
        };
        Some((self.form.clone(), then, conclusion))
    }
}

impl Field {
    fn clear_message(&mut self) {
        if self.message {
            self.input.set_custom_validity("");
            self.message = false;
        }
    }
}

/// An XHR event of request `call` of the attempt numbered `id`, from `widget/js/effects.js`:
/// with `xhr`, the end of the request, else an upload's progress, `sent` (`loaded / total` of
/// its body), or a timer. An attempt that is gone or over has stopped its requests; late
/// events are ignored.
pub fn answered(id: u32, call: Call, event: &JsValue, xhr: Option<Xhr>, sent: f64) {
    let Some(mut state) = page::attempt(Key::Id(id)).filter(|state| !state.over) else { return };
    let end = xhr.is_some() || !matches!(call, Call::Send(..));
    let notice = match (call, xhr) {
        (Call::Send(file, part), None) => state.progressed(file, part, sent),
        (Call::Send(file, part), Some(xhr)) => state.sent(file, part, &xhr),
        (Call::Sign(field), Some(xhr)) => {
            state.signed(field, &xhr);
            None
        }
        (Call::Urls(file) | Call::Complete(file), Some(xhr)) => state.signer_answered(file, &xhr),
        (Call::Wake(file, 0), _) => {
            state.ask_signer(file);
            None
        }
        (Call::Wake(file, part), _) => {
            state.queue.wake(file, part);
            None
        }
        (Call::Online, _) => {
            state.paused = false;
            None
        }
        _ => None,
    };
    drop(state);
    if let Some(notice) = notice {
        notice.dispatch(event);
    }
    if end {
        pump(id);
    }
}

/// Starts uploads while slots are free; ends the attempt once every file is stored or failed.
fn pump(id: u32) {
    let Some(mut state) = page::attempt(Key::Id(id)) else { return };
    if state.over || state.paused {
        return;
    }
    // Offline, nothing would get through: wait until the browser is back.
    if !effects::online(id, Call::Online.number()) {
        state.paused = true;
        return;
    }
    while let Some((file, part)) = state.queue.start_next() {
        if let Err(failure) = state.start_transfer(file, part) {
            state.fail(file, failure);
        }
    }
    let over = state.queue.is_over();
    drop(state);
    if over {
        finish(id);
    }
}

/// What a `progress` event reports, and with `stored` the `s3file:done` that follows it,
/// gathered while the attempt is borrowed.
struct Notice {
    form: HtmlFormElement,
    input: HtmlInputElement,
    file: File,
    of_form: Progress,
    of_input: Progress,
    file_progress: f64,
    quarter: Option<u8>,
    /// The field's name and the key the file is stored under.
    stored: Option<(String, String)>,
}

impl Notice {
    /// Dispatches `progress` on the form, then on the input, as django-s3file does, then
    /// `s3file:done` if the file is stored.
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
        if let Some((name, key)) = &self.stored {
            effects::stored(&self.input, key, &self.file, name);
        }
    }
}

enum Conclusion {
    Stored {
        /// The upgraded inputs.
        inputs: Array,
        /// The form entries that stand in for them, names and values alternating.
        entries: Array,
        /// `{field: [key, …]}` for the JS API.
        keys: Object,
    },
    Failed {
        /// Each failure, as `effects::report` gathers them.
        reports: Array,
        /// The first failure's message.
        message: String,
    },
}

/// Ends the attempt: hands the keys over, or the form back with the reasons.
fn finish(id: u32) {
    let Some((form, then, conclusion)) = page::attempt(Key::Id(id)).and_then(|mut state| state.conclude())
    else {
        return;
    };
    // The form is itself again, also before it goes, in case the page stays (a `target`
    // elsewhere, the back-forward cache).
    effects::busy(&form, false);
    match conclusion {
        Conclusion::Stored { inputs, entries, keys } => {
            page::unregister(id);
            effects::announce(&form, &Announcement::Complete.text());
            match then {
                Then::Submit(submitter) => effects::hand_over(&form, submitter, &inputs, &entries, true),
                Then::Settle { resolve, .. } => {
                    effects::hand_over(&form, None, &inputs, &entries, false);
                    js::call(&resolve, &keys);
                }
            }
        }
        Conclusion::Failed { reports, message } => {
            effects::failed(&form, &reports, &Announcement::Failed(&message).text());
            if let Then::Settle { reject, .. } = then {
                js::call(&reject, &js_sys::Error::new(&message));
            }
        }
    }
}

/// Stops the attempt of `form`: running requests are aborted, what is stored is kept for the
/// next attempt. Answers whether there was an attempt to stop.
pub fn abort(form: &HtmlFormElement) -> bool {
    let Some(mut state) = page::attempt(Key::Form(form)).filter(|state| !state.over) else { return false };
    state.over = true;
    xhr::stop_requests(state.id, None);
    state.abandon_uploads();
    state.queue.stop();
    let then = state.then.take();
    drop(state);
    effects::busy(form, false);
    effects::announce(form, &Announcement::Stopped.text());
    if let Some(Then::Settle { reject, .. }) = then {
        let error = js_sys::Error::new("the upload was aborted");
        error.set_name("AbortError");
        js::call(&reject, &error);
    }
    true
}
