//! One attempt at uploading a form's files, the page's side of it: the inputs, their `File`s
//! and targets, the part URLs and the requests on their way ([`Browser`]). What to do is
//! decided by the state machine ([`machine`]), which knows none of these: this module turns
//! the page's events into its [`Event`]s and carries out what it calls for.
//!
//! What the page sees (events, the hand-over) `widget/js/effects.js` runs once the widget has
//! returned, so page code never runs while an attempt is borrowed (see `page`), and a listener
//! may call `abort()` or start another upload.

pub mod machine;
mod requests;

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, Date, Function, Math, Object};
use wasm_bindgen::prelude::*;
use web_sys::{File, HtmlElement, HtmlFormElement, HtmlInputElement};

use crate::announcement::Announcement;
use crate::bindings::xhr::{self, Xhr};
use crate::bindings::{dom, effects, js};
use crate::endpoint::{sibling, source, Source};
use crate::failure::Failure;
use crate::instructions::{self, Target, Upload};
use crate::part_urls::PartUrls;
use crate::progress::Progress;
use crate::settings;
use crate::sign::{self, Restrictions};
use crate::submission::hidden_fields;
use crate::upload::{self, Part};
use machine::{
    Conclusion, EarlierField, Env, Event, FieldSetup, FileFacts, Refusal, SignerAnswer, SignerStep, Wake,
};
use requests::{Call, Requests};

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
    /// list).
    files: Vec<File>,
    /// Each file's target, once the field is signed.
    targets: Vec<Target>,
    /// The input shows one of this attempt's failures as its validity message.
    message: bool,
}

pub struct Attempt {
    machine: machine::Attempt,
    browser: Browser,
}

/// The page's side of an attempt, which carries out what the machine calls for. Files are
/// numbered across the form, in field order, as the machine numbers them.
pub struct Browser {
    form: HtmlFormElement,
    then: Option<Then>,
    fields: Vec<Field>,
    /// The part URLs of its multipart uploads.
    urls: PartUrls,
    /// How long an upload may go without progress before it is abandoned as stalled, in ms.
    stall: f64,
    /// Its requests and timers on their way.
    requests: Requests,
    /// The XHR event being handled, for the `progress` events' `originalEvent`.
    original: JsValue,
    /// The machine concluded while handling the event.
    concluded: Option<Conclusion>,
    /// Every file is stored and the form was handed over: the attempt is done with.
    handed_over: bool,
}

/// The upgraded file inputs of `form` that have files to upload: named, enabled, with files, as
/// the browser would submit them.
pub fn fields(form: &HtmlFormElement) -> Vec<Field> {
    let form_attribute = form.get_attribute("data-s3file");
    let mut fields = Vec::new();
    for input in js::items(&effects::file_inputs(form)) {
        let input: HtmlInputElement = input.unchecked_into();
        let Some(sign_url) = sign_url(&input, form_attribute.as_deref()) else { continue };
        let mut files = Vec::new();
        for file in js::items(&js::get(&input, "files")) {
            files.push(file.unchecked_into());
        }
        fields.push(Field {
            name: js::name(&input),
            input,
            sign_url,
            files,
            targets: Vec::new(),
            message: false,
        });
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

/// What the page is like now.
fn env() -> Env {
    Env { now: Date::now(), online: xhr::is_online(), random: Math::random() }
}

impl Attempt {
    /// Starts uploading the files of `fields`, of `form`, in place of the form's `earlier`
    /// attempt, whose instructions and stored keys serve this one where they still can (it
    /// failed, or was stopped).
    pub fn start(
        form: &HtmlFormElement,
        mut fields: Vec<Field>,
        then: Then,
        mut earlier: Option<&mut Attempt>,
    ) -> Attempt {
        let form_max_size = form.get_attribute("data-s3file-max-size");
        let limit = settings::concurrency(form.get_attribute("data-s3file-concurrency").as_deref());
        let retries = settings::retries(form.get_attribute("data-s3file-retries").as_deref());
        let mut machine = machine::Attempt::new(limit, retries);
        let now = Date::now();
        for (index, field) in fields.iter_mut().enumerate() {
            let input_max_size = field.input.get_attribute("data-s3file-max-size");
            let max_size = settings::max_size(input_max_size.as_deref(), form_max_size.as_deref());
            let given = field.sign_url.is_none().then(|| {
                let (signature, targets) = instructions::from_markup(&field.input, &field.files);
                field.targets = targets;
                instructions::signed(signature, &field.targets)
            });
            let same = earlier.as_deref().and_then(|earlier| earlier.browser.same_field(field));
            let mut files = Vec::new();
            for file in &field.files {
                files.push(FileFacts { name: js::name(file), size: file.size() });
            }
            let setup = FieldSetup { files, max_size, given, earlier: same };
            machine.add(setup, earlier.as_deref_mut().map(|earlier| &mut earlier.machine), now);
            // The targets of reused instructions come along.
            let reused = same.filter(|_| machine.is_reused(index));
            let old = reused.and_then(|same| earlier.as_deref_mut()?.browser.fields.get_mut(same.index));
            if let Some(old) = old {
                field.targets = core::mem::take(&mut old.targets);
            }
        }
        if let Some(earlier) = earlier {
            earlier.clear_messages();
        }
        let browser = Browser {
            form: form.clone(),
            then: Some(then),
            fields,
            urls: PartUrls::default(),
            stall: settings::stall_ms(form.get_attribute("data-s3file-stall-timeout").as_deref()),
            requests: Requests::default(),
            original: JsValue::UNDEFINED,
            concluded: None,
            handed_over: false,
        };
        let mut attempt = Attempt { machine, browser };
        attempt.handle(Event::Start);
        attempt
    }

    pub fn form(&self) -> &HtmlFormElement {
        &self.browser.form
    }

    /// Whether the attempt is over: it concluded, or was stopped.
    pub fn is_over(&self) -> bool {
        self.machine.is_over()
    }

    /// Whether every file is stored and the form was handed over: the attempt is done with.
    pub fn is_handed_over(&self) -> bool {
        self.browser.handed_over
    }

    /// Whether request `request` is this attempt's.
    pub fn owns(&self, request: u32) -> bool {
        self.browser.requests.owns(request)
    }

    /// Stops the upload, unless it is over.
    pub fn abort(&mut self) {
        self.handle(Event::Abort);
    }

    /// Stops every request of the attempt (its form left the page).
    pub fn stop_requests(&mut self) {
        machine::Shell::stop(&mut self.browser, None);
    }

    /// Clears this attempt's validity messages, so the form gets past the browser's validation.
    pub fn clear_messages(&mut self) {
        for field in &mut self.browser.fields {
            field.clear_message();
        }
    }

    /// Other files were chosen in `input`: what this attempt kept for it concerns files that
    /// are gone.
    pub fn forget(&mut self, input: &HtmlInputElement) {
        for (index, field) in self.browser.fields.iter_mut().enumerate() {
            if field.input == *input {
                self.machine.forget(index);
                field.clear_message();
            }
        }
    }

    /// An event of request `request` (see `xhr`), `original`: with `xhr`, the end of a
    /// request; else an upload's progress, `sent` (`loaded / total` of its body), or a timer.
    pub fn answered(&mut self, request: u32, original: JsValue, xhr: Option<Xhr>, sent: f64) {
        self.browser.original = original;
        if let Some(event) = self.browser.event(request, xhr, sent) {
            self.handle(event);
        }
        self.browser.original = JsValue::UNDEFINED;
    }

    /// Feeds `event` to the machine, with the browser doing what it calls for, then carries
    /// out its conclusion, if it came to one.
    fn handle(&mut self, event: Event) {
        self.machine.on(event, env(), &mut self.browser);
        if let Some(conclusion) = self.browser.concluded.take() {
            self.browser.conclude(conclusion, &self.machine);
        }
    }
}

impl Browser {
    /// The index of the field of this attempt that is `field`'s input, and whether it still
    /// holds the same files.
    fn same_field(&self, field: &Field) -> Option<EarlierField> {
        let index = self.fields.iter().position(|earlier| earlier.input == field.input)?;
        let same_files = self.fields.get(index).is_some_and(|earlier| earlier.files == field.files);
        Some(EarlierField { index, same_files })
    }

    /// The field, the `File` and the target of the form's file `file`.
    fn file(&self, file: usize) -> Option<(&Field, &File, &Target)> {
        let mut number = file;
        for field in &self.fields {
            if number < field.files.len() {
                return Some((field, field.files.get(number)?, field.targets.get(number)?));
            }
            number -= field.files.len();
        }
        None
    }

    /// The number of field `index`'s first file among the form's files.
    fn first_file(&self, index: usize) -> usize {
        self.fields.iter().take(index).map(|field| field.files.len()).sum()
    }

    /// The machine's event for an event of request `request`; the request is forgotten once it
    /// is over.
    fn event(&mut self, request: u32, xhr: Option<Xhr>, sent: f64) -> Option<Event> {
        // An upload's progress comes before its end; anything else is the end.
        let progress = xhr.is_none();
        let call = self.requests.call(request, |call| !(progress && matches!(call, Call::Send { .. })))?;
        Some(match (call, xhr) {
            (Call::Send { file, part }, None) => Event::Progress { file, part, sent },
            (Call::Send { file, part }, Some(xhr)) => {
                Event::Sent { file, part, outcome: self.read_transfer(file, &xhr)? }
            }
            (Call::Sign(field), Some(xhr)) => Event::Signed { field, answer: self.read_sign(field, &xhr)? },
            (Call::Signer { file, complete }, Some(xhr)) => {
                Event::SignerAnswered { file, answer: self.read_signer(file, complete, &xhr) }
            }
            (Call::Wake(wake), _) => Event::Woken(wake),
            _ => return None,
        })
    }

    /// What came of a transfer of `file`.
    fn read_transfer(&self, file: usize, xhr: &Xhr) -> Option<Result<String, Refusal>> {
        let (field, blob, target) = self.file(file)?;
        let unanswered = xhr.status() == 0;
        let outcome = upload::read_answer(xhr, blob, target, field.sign_url.is_none());
        Some(outcome.map_err(|(failure, verdict)| Refusal { failure, verdict, unanswered }))
    }

    /// The signer's answer to field `index`'s sign request: its targets are kept here, what
    /// the machine needs of them goes to it.
    fn read_sign(&mut self, index: usize, xhr: &Xhr) -> Option<Result<machine::Signed, Failure>> {
        let first_file = self.first_file(index);
        let field = self.fields.get_mut(index)?;
        let (signature, targets) = match sign::read_answer(field.sign_url.as_deref()?, xhr, field.files.len())
        {
            Ok(answer) => answer,
            Err(failure) => return Some(Err(failure)),
        };
        for (number, target) in targets.iter().enumerate() {
            if let Upload::Multipart { part_count, .. } = target.upload {
                self.urls.expect(first_file + number, part_count);
            }
        }
        let signed = instructions::signed(signature, &targets);
        field.targets = targets;
        Some(Ok(signed))
    }

    /// The signer's answer to a request about `file`'s multipart upload; part URLs are kept.
    fn read_signer(&mut self, file: usize, complete: bool, xhr: &Xhr) -> SignerAnswer {
        let (status, answer) = (xhr.status(), xhr.response());
        if !(200..300).contains(&status) {
            let url = self.file(file).and_then(|(field, _, _)| field.sign_url.as_deref()).unwrap_or_default();
            return SignerAnswer::Refused { status, failure: sign::signer_failure(url, status, &answer) };
        }
        if complete {
            let key = self.file(file).map(|(_, _, target)| target.key.clone()).unwrap_or_default();
            return SignerAnswer::Completed { key };
        }
        // `{parts: [{n, url, headers}], expires}`.
        let numbers = self.urls.keep(file, &answer);
        let expires_at = js::get(&answer, "expires").as_f64().unwrap_or_default() * 1000.0;
        SignerAnswer::PartUrls { numbers, expires_at }
    }

    /// Hands the keys over, or the form back with the reasons.
    fn conclude(&mut self, conclusion: Conclusion, machine: &machine::Attempt) {
        let Some(then) = self.then.take() else { return };
        let form = &self.form;
        match conclusion {
            Conclusion::Stored => {
                let (inputs, entries, keys) = (Array::new(), Array::new(), Object::new());
                for (index, field) in self.fields.iter().enumerate() {
                    inputs.push(&field.input);
                    let Some((signature, stored)) = machine.stored_keys(index) else { continue };
                    hidden_fields(&field.name, stored.clone(), signature, |name, value| {
                        entries.push(&name.into());
                        entries.push(&value.into());
                    });
                    js::set(&keys, &field.name, &stored.map(JsValue::from).collect::<Array>());
                }
                self.handed_over = true;
                effects::announce(form, &Announcement::Complete.text());
                match then {
                    Then::Submit(submitter) => effects::hand_over(form, submitter, &inputs, &entries, true),
                    Then::Settle { resolve, .. } => {
                        effects::hand_over(form, None, &inputs, &entries, false);
                        effects::settle(&resolve, &keys);
                    }
                }
            }
            Conclusion::Failed(failures) => {
                let reports = Array::new();
                let mut first = None;
                for (index, failure) in failures {
                    let Some(field) = self.fields.get_mut(index) else { continue };
                    let message = failure.message();
                    // The first failure of each input becomes its validity message; it stays
                    // until other files are chosen or the form is submitted again.
                    if !field.message {
                        field.input.set_custom_validity(&message);
                        field.message = true;
                    }
                    effects::report(&reports, &field.input, &message, &field.name, failure.file_name());
                    first.get_or_insert(message);
                }
                let message = first.unwrap_or_default();
                effects::failed(form, &reports, &Announcement::Failed(&message).text());
                if let Then::Settle { reject, .. } = then {
                    effects::settle(&reject, &js_sys::Error::new(&message));
                }
            }
            Conclusion::Stopped => {
                if let Then::Settle { reject, .. } = then {
                    let error = js_sys::Error::new("the upload was aborted");
                    error.set_name("AbortError");
                    effects::settle(&reject, &error);
                }
            }
        }
    }
}

/// `{progress, loaded, total}`, as the `progress` event's `detail` has them.
fn totals(progress: Progress) -> Object {
    let totals = Object::new();
    js::set(&totals, "progress", &progress.progress.into());
    js::set(&totals, "loaded", &progress.loaded.into());
    js::set(&totals, "total", &progress.total.into());
    totals
}

impl machine::Shell for Browser {
    fn busy(&mut self, on: bool) {
        effects::busy(&self.form, on);
    }

    fn started(&mut self, files: usize, total: f64) {
        effects::started(&self.form, files, total);
    }

    fn say(&mut self, text: &str) {
        effects::announce(&self.form, text);
    }

    fn sign(&mut self, index: usize, max_size: Option<u64>) -> Result<(), Failure> {
        let request = self.requests.register(Call::Sign(index));
        let Some(field) = self.fields.get(index) else { return Ok(()) };
        let Some(url) = field.sign_url.as_deref() else { return Ok(()) };
        let accept = field.input.get_attribute("accept").filter(|accept| !accept.trim_ascii().is_empty());
        let restrictions = Restrictions { accept: accept.as_deref(), max_size };
        sign::request(url, &field.name, &field.files, &restrictions, request)
    }

    fn remember(&mut self, file: usize, signature: &str) {
        if let Some((field, blob, target)) = self.file(file) {
            if let Some(spec) = target.multipart() {
                effects::remember(&field.name, blob, &target.key, signature, spec);
            }
        }
    }

    fn forget(&mut self, file: usize) {
        if let Some((field, blob, _)) = self.file(file) {
            effects::forget(&field.name, blob);
        }
    }

    fn ask_signer(
        &mut self,
        file: usize,
        step: SignerStep<impl Iterator<Item = u32>>,
    ) -> Result<(), Failure> {
        let (complete, numbers) = (matches!(step, SignerStep::Complete), Array::new());
        if let SignerStep::PartUrls(parts) = step {
            for number in parts {
                numbers.push(&number.into());
            }
        }
        let request = self.requests.register(Call::Signer { file, complete });
        let Some((field, _, target)) = self.file(file) else { return Ok(()) };
        let (Some(sign_url), Some(spec)) = (&field.sign_url, target.multipart()) else { return Ok(()) };
        let url = sibling(sign_url, if complete { "complete" } else { "parts" });
        let body = effects::multipart_body(&target.key, spec, &numbers);
        if xhr::ask(request, &url, &body) {
            return Ok(());
        }
        Err(Failure::SignUnreachable { url })
    }

    fn send(&mut self, file: usize, part: u32, range: (f64, f64)) -> Result<(), Failure> {
        let request = self.requests.register(Call::Send { file, part });
        let presigned = self.urls.get(file, part);
        let Some((field, blob, target)) = self.file(file) else { return Ok(()) };
        let part = Part { presigned: &presigned, range };
        upload::start(blob, target, &part, field.sign_url.is_none(), request, self.stall)
    }

    fn later(&mut self, ms: f64, wake: Wake) {
        xhr::later(ms, self.requests.register(Call::Wake(wake)));
    }

    fn when_online(&mut self, wake: Wake) {
        xhr::when_online(self.requests.register(Call::Wake(wake)));
    }

    fn stop(&mut self, file: Option<usize>) {
        self.requests.stop(file);
    }

    fn abandon(&mut self, file: usize) {
        let Some((field, blob, target)) = self.file(file) else { return };
        if let (Some(sign_url), Some(spec)) = (&field.sign_url, target.multipart()) {
            effects::abandon(&sibling(sign_url, "abort"), &target.key, spec);
            effects::forget(&field.name, blob);
        }
    }

    fn progress(&mut self, file: usize, of_file: f64, of_form: Progress, of_input: Progress) {
        if let Some((field, blob, _)) = self.file(file) {
            let (of_form, of_input) = (totals(of_form), totals(of_input));
            effects::progress(&self.form, &field.input, blob, of_file, &self.original, &of_form, &of_input);
        }
    }

    fn stored(&mut self, file: usize, key: &str) {
        if let Some((field, blob, _)) = self.file(file) {
            effects::stored(&field.input, key, blob, &field.name);
        }
    }

    fn conclude(&mut self, conclusion: Conclusion) {
        self.concluded = Some(conclusion);
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
