//! One attempt at uploading a form's files, the page's side of it: the inputs, their `File`s
//! and targets, the part URLs and the requests on their way. What to do is decided by the
//! state machine ([`machine`]), which knows none of these; this shell turns the page's events
//! into its [`Event`]s and carries out its [`Command`]s.
//!
//! Commands that touch the network (requests, timers) are carried out at once; those the page
//! sees (events, the live region, the hand-over) are returned as [`PageEffect`]s, which the
//! caller runs once it no longer borrows the attempt (see `page`), so a page listener may call
//! `abort()` or start another upload.

pub mod machine;
mod page_effects;

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, Date, Function, Math, Object};
use wasm_bindgen::prelude::*;
use web_sys::{File, HtmlElement, HtmlFormElement, HtmlInputElement};

use crate::endpoint::{sibling, source, Source};
use crate::failure::Failure;
use crate::instructions::{self, Target, Upload};
use crate::part_urls::PartUrls;
use crate::sign::{self, Restrictions};
use crate::submission::hidden_fields;
use crate::upload::{self, Part};
use crate::xhr::{self, Call, Xhr};
use crate::{dom, effects, js, settings};
use machine::{
    Command, Conclusion, EarlierField, Env, Event, FieldSetup, FileFacts, Refusal, SignerAnswer, SignerStep,
    Signed,
};
pub use page_effects::{Outcome, PageEffect};

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
    pub form: HtmlFormElement,
    then: Option<Then>,
    fields: Vec<Field>,
    machine: machine::Attempt,
    /// The part URLs of its multipart uploads.
    urls: PartUrls,
    /// How long an upload may go without progress before it is abandoned as stalled, in ms.
    stall: f64,
    /// Its requests and timers on their way, by number.
    requests: Vec<(u32, Call)>,
}

/// The upgraded file inputs of `form` that have files to upload: named, enabled, with files, as
/// the browser would submit them.
pub fn fields(form: &HtmlFormElement) -> Vec<Field> {
    let form_attribute = form.get_attribute("data-s3file");
    let mut fields = Vec::new();
    for input in js::items(&effects::file_inputs(form)) {
        let input: HtmlInputElement = input.unchecked_into();
        let Some(sign_url) = sign_url(&input, form_attribute.as_deref()) else { continue };
        let files = js::items(&js::get(&input, "files")).map(JsValue::unchecked_into).collect();
        fields.push(Field { name: js::name(&input), input, sign_url, files, targets: Vec::new(), message: false });
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
    /// failed, or was stopped). Answers the attempt and what it does to the page.
    pub fn start(
        form: &HtmlFormElement,
        mut fields: Vec<Field>,
        then: Then,
        mut earlier: Option<&mut Attempt>,
    ) -> (Attempt, Vec<PageEffect>) {
        let form_max_size = form.get_attribute("data-s3file-max-size");
        let mut setup = Vec::new();
        for field in &mut fields {
            let max_size =
                settings::max_size(field.input.get_attribute("data-s3file-max-size").as_deref(), form_max_size.as_deref());
            let given = field.sign_url.is_none().then(|| {
                let (signature, targets) = instructions::from_markup(&field.input, &field.files);
                field.targets = targets;
                instructions::signed(signature, &field.targets)
            });
            let earlier = earlier.as_deref().and_then(|earlier| earlier.same_field(field));
            let files = field.files.iter().map(|file| FileFacts { name: js::name(file), size: file.size() }).collect();
            setup.push(FieldSetup { files, max_size, given, earlier });
        }
        let setup = machine::Setup {
            fields: setup,
            limit: settings::concurrency(form.get_attribute("data-s3file-concurrency").as_deref()),
            retries: settings::retries(form.get_attribute("data-s3file-retries").as_deref()),
        };
        let machine = machine::Attempt::new(setup, earlier.as_deref_mut().map(|earlier| &mut earlier.machine), Date::now());
        if let Some(earlier) = earlier {
            for (index, field) in fields.iter_mut().enumerate() {
                if machine.is_reused(index) {
                    if let Some(old) = earlier.fields.iter_mut().find(|old| old.input == field.input) {
                        field.targets = core::mem::take(&mut old.targets);
                    }
                }
            }
            earlier.clear_messages();
        }
        let mut attempt = Attempt {
            form: form.clone(),
            then: Some(then),
            fields,
            machine,
            urls: PartUrls::default(),
            stall: settings::stall_ms(form.get_attribute("data-s3file-stall-timeout").as_deref()),
            requests: Vec::new(),
        };
        let mut page = Vec::new();
        attempt.handle(Event::Start, &mut page);
        (attempt, page)
    }

    /// The index of the field of this attempt that is `field`'s input, and whether it still
    /// holds the same files.
    fn same_field(&self, field: &Field) -> Option<EarlierField> {
        let index = self.fields.iter().position(|earlier| earlier.input == field.input)?;
        let same_files = self.fields.get(index).is_some_and(|earlier| earlier.files == field.files);
        Some(EarlierField { index, same_files })
    }

    /// Whether the attempt is over: it concluded, or was stopped.
    pub fn is_over(&self) -> bool {
        self.machine.is_over()
    }

    /// Whether request `request` is this attempt's.
    pub fn owns(&self, request: u32) -> bool {
        self.requests.iter().any(|(number, _)| *number == request)
    }

    /// Stops the upload; answers what it does to the page, nothing if it was over already.
    pub fn abort(&mut self) -> Vec<PageEffect> {
        let mut page = Vec::new();
        self.handle(Event::Abort, &mut page);
        page
    }

    /// Stops every request of the attempt (its form left the page).
    pub fn stop_requests(&mut self) {
        for (number, _) in self.requests.drain(..) {
            xhr::stop(number);
        }
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
        for (index, field) in self.fields.iter_mut().enumerate() {
            if field.input == *input {
                self.machine.forget(index);
                field.clear_message();
            }
        }
    }

    /// An event of request `request` (see `xhr`): with `xhr`, the end of a request; else an
    /// upload's progress, `sent` (`loaded / total` of its body), or a timer. Answers what it
    /// does to the page.
    pub fn answered(&mut self, request: u32, xhr: Option<Xhr>, sent: f64) -> Vec<PageEffect> {
        let mut page = Vec::new();
        if let Some(event) = self.event(request, xhr, sent) {
            self.handle(event, &mut page);
        }
        page
    }

    /// The machine's event for an event of request `request`; the request is forgotten once it
    /// is over.
    fn event(&mut self, request: u32, xhr: Option<Xhr>, sent: f64) -> Option<Event> {
        let position = self.requests.iter().position(|(number, _)| *number == request)?;
        let (_, call) = *self.requests.get(position)?;
        if let (Call::Send { file, part }, None) = (call, &xhr) {
            return Some(Event::Progress { file, part, sent });
        }
        self.requests.swap_remove(position);
        Some(match (call, xhr) {
            (Call::Send { file, part }, Some(xhr)) => Event::Sent { file, part, outcome: self.read_transfer(file, &xhr)? },
            (Call::Sign(field), Some(xhr)) => Event::Signed { field, answer: self.read_sign(field, &xhr)? },
            (Call::Signer { file, complete }, Some(xhr)) => {
                Event::SignerAnswered { file, answer: self.read_signer(file, complete, &xhr) }
            }
            (Call::Wake(wake), _) => Event::Woken(wake),
            _ => return None,
        })
    }

    /// Feeds `event` to the machine and carries out its commands; a command that cannot be
    /// carried out becomes an event of its own, fed back at once.
    fn handle(&mut self, event: Event, page: &mut Vec<PageEffect>) {
        for command in self.machine.on(event, env()) {
            if let Some(event) = self.perform(command, page) {
                self.handle(event, page);
            }
        }
    }

    /// Keeps `call` under a new request number, which it answers.
    fn register(&mut self, call: Call) -> u32 {
        let number = xhr::next_number();
        self.requests.push((number, call));
        number
    }

    /// Field `index`, with the file `number` of it, for the form's file `file`.
    fn file(&self, file: usize) -> Option<(&Field, &File, &Target)> {
        let (index, number) = self.machine.locate(file)?;
        let field = self.fields.get(index)?;
        Some((field, field.files.get(number)?, field.targets.get(number)?))
    }

    fn perform(&mut self, command: Command, page: &mut Vec<PageEffect>) -> Option<Event> {
        match command {
            Command::Busy(on) => page.push(PageEffect::Busy(on)),
            Command::Started { files, total } => page.push(PageEffect::Started { files, total }),
            Command::Say(text) => page.push(PageEffect::Say(text)),
            Command::Sign { field: index, max_size } => {
                let request = self.register(Call::Sign(index));
                let field = self.fields.get(index)?;
                let url = field.sign_url.as_deref()?;
                let accept = field.input.get_attribute("accept").filter(|accept| !accept.trim_ascii().is_empty());
                let restrictions = Restrictions { accept: accept.as_deref(), max_size };
                if let Err(failure) = sign::request(url, &field.name, &field.files, &restrictions, request) {
                    return Some(Event::Signed { field: index, answer: Err(failure) });
                }
            }
            Command::Remember { file } => {
                let (index, _) = self.machine.locate(file)?;
                let signature = self.machine.signature(index)?;
                let (field, blob, target) = self.file(file)?;
                effects::remember(&field.name, blob, &target.key, signature, target.multipart()?);
            }
            Command::Forget { file } => {
                let (field, blob, _) = self.file(file)?;
                effects::forget(&field.name, blob);
            }
            Command::AskSigner { file, step } => {
                let (complete, numbers) = match step {
                    SignerStep::Complete => (true, Array::new()),
                    SignerStep::PartUrls(numbers) => (false, numbers.into_iter().map(JsValue::from).collect()),
                };
                let request = self.register(Call::Signer { file, complete });
                let (field, _, target) = self.file(file)?;
                let url = sibling(field.sign_url.as_deref()?, if complete { "complete" } else { "parts" });
                let body = effects::multipart_body(&target.key, target.multipart()?, &numbers);
                if !xhr::ask(request, &url, &body) {
                    return Some(Event::Unsendable { file, failure: Failure::SignUnreachable { url } });
                }
            }
            Command::Send { file, part, range } => {
                let request = self.register(Call::Send { file, part });
                let presigned = self.urls.get(file, part);
                let (field, blob, target) = self.file(file)?;
                let part = Part { presigned: &presigned, range };
                let markup = field.sign_url.is_none();
                if let Err(failure) = upload::start(blob, target, &part, markup, request, self.stall) {
                    return Some(Event::Unsendable { file, failure });
                }
            }
            Command::Later { ms, wake } => xhr::later(ms, self.register(Call::Wake(wake))),
            Command::WhenOnline(wake) => xhr::when_online(self.register(Call::Wake(wake))),
            Command::Stop(file) => self.requests.retain(|&(number, call)| {
                let keep = file.is_some() && call.file() != file;
                if !keep {
                    xhr::stop(number);
                }
                keep
            }),
            Command::Abandon { file } => {
                let (field, blob, target) = self.file(file)?;
                effects::abandon(&sibling(field.sign_url.as_deref()?, "abort"), &target.key, target.multipart()?);
                effects::forget(&field.name, blob);
            }
            Command::Progress { file, of_file, of_form, of_input } => {
                let (field, blob, _) = self.file(file)?;
                let (input, file) = (field.input.clone(), blob.clone());
                page.push(PageEffect::Progress { input, file, of_file, of_form, of_input });
            }
            Command::Stored { file, key } => {
                let (field, blob, _) = self.file(file)?;
                let (input, file, name) = (field.input.clone(), blob.clone(), field.name.clone());
                page.push(PageEffect::Stored { input, file, name, key });
            }
            Command::Conclude(conclusion) => {
                let outcome = self.conclude(conclusion);
                page.push(PageEffect::Concluded { then: self.then.take()?, outcome });
            }
        }
        None
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
    fn read_sign(&mut self, index: usize, xhr: &Xhr) -> Option<Result<Signed, Failure>> {
        let first_file = self.machine.first_file(index)?;
        let field = self.fields.get_mut(index)?;
        let url = field.sign_url.as_deref()?;
        let (signature, targets) = match sign::read_answer(url, xhr, field.files.len()) {
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
            return SignerAnswer::Completed;
        }
        // `{parts: [{n, url, headers}], expires}`.
        let numbers = self.urls.keep(file, &answer);
        let expires_at = js::get(&answer, "expires").as_f64().unwrap_or_default() * 1000.0;
        SignerAnswer::PartUrls { numbers, expires_at }
    }

    /// What the page is told at the end.
    fn conclude(&mut self, conclusion: Conclusion) -> Outcome {
        match conclusion {
            Conclusion::Stored => {
                let (inputs, entries, keys) = (Array::new(), Array::new(), Object::new());
                for (index, field) in self.fields.iter().enumerate() {
                    inputs.push(&field.input);
                    let Some((signature, stored)) = self.machine.stored_keys(index) else { continue };
                    hidden_fields(&field.name, stored.clone(), signature, |name, value| {
                        entries.push(&name.into());
                        entries.push(&value.into());
                    });
                    js::set(&keys, &field.name, &stored.map(JsValue::from).collect::<Array>());
                }
                Outcome::Stored { inputs, entries, keys }
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
                Outcome::Failed { reports, message: first.unwrap_or_default() }
            }
            Conclusion::Stopped => Outcome::Stopped,
        }
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
