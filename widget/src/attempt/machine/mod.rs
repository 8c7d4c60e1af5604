//! One attempt at uploading a form's files, as a state machine without IO: the shell (see
//! `attempt`) feeds it [`Event`]s (a sign answer, an upload's progress or end, a timer), and it
//! tells the shell what to do through the [`Shell`] trait (send this, dispatch that, hand the
//! form over). The tests stand in for the shell and record each call as a command.
//!
//! It knows files by number (across the form, in field order) and fields by index; the shell
//! keeps the page's objects (inputs, `File`s, the signer's upload specs, part URLs) under the
//! same numbers. Everything it decides is here, so native tests cover every path: signing,
//! POST, PUT and multipart uploads, retries and their backoff, stalls and going offline,
//! resumed uploads, abort, the conclusion and the progress arithmetic.
//!
//! A failed attempt keeps its state: the next attempt of the form takes each field's
//! instructions and the keys of its stored files from it (see [`Attempt::add`] and `retry`),
//! so it sends only what failed.

use alloc::string::String;
use alloc::vec::Vec;

mod boundary;

pub use boundary::{
    Conclusion, EarlierField, Env, Event, FieldSetup, FileFacts, Refusal, Shape, Shell, Signed, SignerAnswer,
    SignerStep, Wake,
};

use crate::announcement::{quarter_passed, Announcement};
use crate::backoff::{self, Verdict};
use crate::failure::Failure;
use crate::parts::Parts;
use crate::queue::Queue;
use crate::retry;

struct Field {
    files: Vec<FileFacts>,
    /// The number of its first file among the form's files.
    first_file: usize,
    max_size: Option<u64>,
    signed: Option<Signed>,
    /// Its instructions come from an earlier attempt.
    reused: bool,
    /// Its instructions must not serve another attempt: the store refused one of their uploads
    /// after a reuse, or other files were chosen.
    stale: bool,
}

pub struct Attempt {
    fields: Vec<Field>,
    queue: Queue,
    retries: u32,
    /// Files this attempt sends (not stored by an earlier one).
    sending: usize,
    /// The browser went offline: nothing starts until it is back.
    paused: bool,
    failures: Vec<(usize, Failure)>,
    /// The form's progress when it was last announced.
    announced: f64,
    over: bool,
}

impl Attempt {
    /// An attempt with no fields yet: at most `limit` transfers go at once, and each is tried
    /// `retries` times more when it fails.
    pub fn new(limit: usize, retries: u32) -> Attempt {
        Attempt {
            fields: Vec::new(),
            queue: Queue::new(limit),
            retries,
            sending: 0,
            paused: false,
            failures: Vec::new(),
            announced: 0.0,
            over: false,
        }
    }

    /// Adds the next field, in place of its field in the form's `earlier` attempt (failed or
    /// stopped), whose instructions and stored keys serve it where they still can at `now`.
    pub fn add(&mut self, field: FieldSetup, earlier: Option<&mut Attempt>, now: f64) {
        let FieldSetup { files, max_size, given, earlier: same } = field;
        let first_file = self.queue.file_count();
        let mut field = Field { files, first_file, max_size, signed: given, reused: false, stale: false };
        let Some(earlier) = earlier else { return self.push(field, None) };
        // The earlier attempt's number of the field's first file, when its files' keys serve.
        let reused_from = same.and_then(|same| field.reuse(earlier, same, now));
        self.push(field, reused_from.map(|first| (earlier, first)));
    }

    /// Adds `field`, whose stored files' keys are those of the `earlier` attempt's files from
    /// the number given on, if any.
    fn push(&mut self, field: Field, mut earlier: Option<(&mut Attempt, usize)>) {
        let index = self.fields.len();
        for (number, file) in field.files.iter().enumerate() {
            let key = earlier.as_mut().and_then(|(earlier, first)| earlier.queue.take_key(*first + number));
            self.sending += usize::from(key.is_none());
            self.queue.add(index, file.size, key);
        }
        self.fields.push(field);
    }

    /// Handles `event` in `env`, with `shell` doing what it calls for.
    pub fn on(&mut self, event: Event, env: Env, shell: &mut impl Shell) {
        if self.over {
            return;
        }
        match event {
            Event::Start => self.start(shell),
            Event::Signed { field, answer } => self.signed(field, answer, shell),
            Event::Progress { file, part, sent } => {
                self.queue.progress(file, part, sent);
                return self.notice(file, false, shell);
            }
            Event::Sent { file, part, outcome } => self.sent(file, part, outcome, env, shell),
            Event::SignerAnswered { file, answer } => self.signer_answered(file, answer, env, shell),
            Event::Woken(Wake::Part { file, part }) => self.queue.wake(file, part),
            Event::Woken(Wake::Signer { file }) => self.ask_signer(file, shell),
            Event::Woken(Wake::Online) => self.paused = false,
            Event::Abort => return self.abort(shell),
        }
        self.pump(env, shell);
    }

    /// Whether the attempt is over: concluded or stopped.
    pub fn is_over(&self) -> bool {
        self.over
    }

    /// Whether field `index`'s instructions come from the earlier attempt.
    pub fn is_reused(&self, index: usize) -> bool {
        self.fields.get(index).is_some_and(|field| field.reused)
    }

    /// The field and the number within it of the form's file `file`.
    fn locate(&self, file: usize) -> Option<(usize, usize)> {
        let index = self.queue.field(file)?;
        let field = self.fields.get(index)?;
        Some((index, file.checked_sub(field.first_file)?))
    }

    /// Other files were chosen in field `index`'s input: its instructions concern files that
    /// are gone.
    pub fn forget(&mut self, index: usize) {
        if let Some(field) = self.fields.get_mut(index) {
            field.stale = true;
        }
    }

    /// The signature and the keys of the stored files of field `index`, in file order.
    pub fn stored_keys(&self, index: usize) -> Option<(&str, impl Iterator<Item = &str> + Clone)> {
        let signed = self.fields.get(index)?.signed.as_ref()?;
        Some((signed.signature.as_str(), self.queue.stored_keys(index)))
    }

    fn start(&mut self, shell: &mut impl Shell) {
        let total = self.queue.totals(None).total;
        shell.busy(true);
        shell.started(self.sending, total);
        shell.say(&Announcement::Uploading { files: self.sending }.text());
        for index in 0..self.fields.len() {
            self.prepare(index, shell);
        }
    }

    /// Checks the sizes of field `index`'s files, then gets its instructions: reused, given by
    /// the input, or by asking the signer.
    fn prepare(&mut self, index: usize, shell: &mut impl Shell) {
        let Some(field) = self.fields.get(index) else { return };
        if !field.reused {
            if let Some(max) = field.max_size {
                if let Some(file) = field.files.iter().find(|file| file.size > max as f64) {
                    let failure = Failure::TooLarge { file: file.name.clone(), size: file.size as u64, max };
                    return self.refuse(index, failure);
                }
            }
            if field.signed.is_none() {
                if let Err(failure) = shell.sign(index, field.max_size) {
                    self.refuse(index, failure);
                }
                return;
            }
        }
        self.release(index, shell);
    }

    /// Field `index` cannot be uploaded: its files that are not stored fail.
    fn refuse(&mut self, index: usize, failure: Failure) {
        self.queue.refused(index);
        self.failures.push((index, failure));
    }

    fn signed(&mut self, index: usize, answer: Result<Signed, Failure>, shell: &mut impl Shell) {
        match answer {
            Ok(signed) => {
                if let Some(field) = self.fields.get_mut(index) {
                    field.signed = Some(signed);
                    self.release(index, shell);
                }
            }
            Err(failure) => self.refuse(index, failure),
        }
    }

    /// How file `file` goes up, once its field is signed, and its size.
    fn shape(&self, file: usize) -> Option<(&Shape, f64)> {
        let (index, number) = self.locate(file)?;
        let field = self.fields.get(index)?;
        let shape = field.signed.as_ref()?.shapes.get(number)?;
        Some((shape, field.files.get(number)?.size))
    }

    /// Field `index` is signed: each of its files not stored yet may go, a multipart upload
    /// once it has part URLs. A multipart upload is remembered until it completes, so a reload
    /// can resume it.
    fn release(&mut self, index: usize, shell: &mut impl Shell) {
        let Some(field) = self.fields.get(index) else { return };
        for file in field.first_file..field.first_file + field.files.len() {
            if !self.queue.is_unsigned(file) {
                continue;
            }
            let Some((shape, size)) = self.shape(file) else { continue };
            let (parts, multipart) = match shape {
                Shape::Multipart { part_size, part_count, done } => {
                    let mut parts = Parts::new(size, *part_size, *part_count);
                    for number in done {
                        parts.resumed(*number);
                    }
                    (parts, true)
                }
                Shape::Whole => (Parts::new(size, size, 1), false),
            };
            self.queue.signed(file, parts, multipart);
            self.queue.record(file);
            if multipart {
                if let Some(signed) = self.fields.get(index).and_then(|field| field.signed.as_ref()) {
                    shell.remember(file, &signed.signature);
                }
                self.ask_signer(file, shell);
            }
        }
    }

    /// Asks the signer for what `file`'s multipart upload needs next: URLs for the parts not
    /// stored yet (up to 1,000 at a time), or, once all are, its completion.
    fn ask_signer(&mut self, file: usize, shell: &mut impl Shell) {
        let Some(parts) = self.queue.parts(file) else { return };
        let step = if parts.is_complete() {
            SignerStep::Complete
        } else {
            SignerStep::PartUrls(parts.remaining().take(1000))
        };
        match shell.ask_signer(file, step) {
            Ok(()) => {
                if let Some(parts) = self.queue.parts(file) {
                    parts.asking = true;
                }
            }
            Err(failure) => self.fail(file, failure, shell),
        }
    }

    /// Starts part `number` of `file`; for a multipart upload whose URL for that part is
    /// missing or about to expire, holds the file and asks for fresh URLs instead.
    fn start_transfer(&mut self, file: usize, number: u32, now: f64, shell: &mut impl Shell) {
        let multipart = self.queue.is_multipart(file);
        let Some(parts) = self.queue.parts(file) else { return };
        let range = parts.range(number);
        let usable = parts.fresh_until > now && parts.has_url(number);
        let asking = parts.asking;
        if multipart && !usable {
            self.queue.part_failed(file, number, false);
            self.queue.wake(file, number);
            self.queue.hold(file, true);
            if !asking {
                self.ask_signer(file, shell);
            }
            return;
        }
        if let Err(failure) = shell.send(file, number, range) {
            self.fail(file, failure, shell);
        }
    }

    /// `file` cannot be stored: its requests stop, and the failure is reported at the end.
    fn fail(&mut self, file: usize, failure: Failure, shell: &mut impl Shell) {
        shell.stop(Some(file));
        self.queue.failed(file);
        let field = self.queue.field(file).unwrap_or_default();
        self.failures.push((field, failure));
    }

    /// A transfer (or, with part 0, a request to the signer) of `file` failed with `verdict`:
    /// answers whether it will be tried again (after a delay), which it is while the tries
    /// last and the failure is transient.
    fn retry(
        &mut self,
        file: usize,
        number: u32,
        verdict: Verdict,
        random: f64,
        shell: &mut impl Shell,
    ) -> bool {
        let multipart = self.queue.is_multipart(file);
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
        let wake = if number == 0 { Wake::Signer { file } } else { Wake::Part { file, part: number } };
        shell.later(backoff::delay_ms(tries, random), wake);
        true
    }

    /// The `progress` events of `file`, as the queue stands, with what it sent recorded; when
    /// `stored`, the event brings the file to 1 and its `s3file:done` follows.
    fn notice(&mut self, file: usize, stored: bool, shell: &mut impl Shell) {
        let of_file = self.queue.record(file);
        let of_form = self.queue.totals(None);
        let of_input = self.queue.totals(self.queue.field(file));
        let quarter = quarter_passed(self.announced, of_form.progress);
        self.announced = of_form.progress;
        shell.progress(file, of_file, of_form, of_input);
        if let Some(quarter) = quarter {
            shell.say(&Announcement::Quarter(quarter).text());
        }
        if let Some(key) = self.queue.key(file).filter(|_| stored) {
            shell.stored(file, key);
        }
    }

    /// `file` is stored under `key`: its last `progress` event, and its `s3file:done`.
    fn store(&mut self, file: usize, key: String, shell: &mut impl Shell) {
        if self.queue.is_multipart(file) {
            shell.forget(file);
        }
        // The last progress event may come before the body is complete; this one brings the
        // file, and with the last file the form, to 1.
        self.queue.stored(file, key);
        self.notice(file, true, shell);
    }

    fn sent(
        &mut self,
        file: usize,
        part: u32,
        outcome: Result<String, Refusal>,
        env: Env,
        shell: &mut impl Shell,
    ) {
        match outcome {
            Ok(key) => {
                if !self.queue.part_done(file, part) {
                    self.notice(file, false, shell);
                } else if self.queue.is_multipart(file) {
                    self.ask_signer(file, shell);
                } else {
                    self.store(file, key, shell);
                }
            }
            Err(refusal) if refusal.unanswered && !env.online => {
                // Offline: not the part's fault. It goes again once the browser is back.
                self.queue.part_failed(file, part, false);
                self.queue.wake(file, part);
                self.pause(shell);
            }
            Err(Refusal { failure, verdict, .. }) => {
                if !self.retry(file, part, verdict, env.random, shell) {
                    if let Some(field) = self.queue.field(file).and_then(|index| self.fields.get_mut(index)) {
                        field.stale |= field.reused && matches!(failure, Failure::UploadRefused { .. });
                    }
                    self.fail(file, failure, shell);
                }
                self.queue.record(file);
            }
        }
    }

    fn signer_answered(&mut self, file: usize, answer: SignerAnswer, env: Env, shell: &mut impl Shell) {
        let Some(parts) = self.queue.parts(file) else { return };
        parts.asking = false;
        match answer {
            // Offline: asked again once the browser is back, without counting as a failure.
            SignerAnswer::Refused { status: 0, .. } if !env.online => {
                shell.when_online(Wake::Signer { file })
            }
            SignerAnswer::Refused { status, failure } => {
                if !self.retry(file, 0, backoff::verdict(status, None, None), env.random, shell) {
                    self.fail(file, failure, shell);
                }
            }
            SignerAnswer::Completed { key } => self.store(file, key, shell),
            SignerAnswer::PartUrls { numbers, expires_at } => {
                parts.failures = 0;
                parts.fresh_until = expires_at - retry::MARGIN_MS.min((expires_at - env.now) / 2.0);
                for number in numbers {
                    parts.url_given(number);
                }
                self.queue.hold(file, false);
            }
        }
    }

    fn pause(&mut self, shell: &mut impl Shell) {
        if !self.paused {
            self.paused = true;
            shell.when_online(Wake::Online);
        }
    }

    /// Starts transfers while slots are free; concludes once every file is stored or failed.
    fn pump(&mut self, env: Env, shell: &mut impl Shell) {
        if self.over || self.paused {
            return;
        }
        // Offline, nothing would get through: wait until the browser is back.
        if !env.online {
            return self.pause(shell);
        }
        while let Some((file, part)) = self.queue.start_next() {
            self.start_transfer(file, part, env.now, shell);
        }
        if self.queue.is_over() {
            self.over = true;
            shell.busy(false);
            shell.conclude(if self.failures.is_empty() {
                Conclusion::Stored
            } else {
                Conclusion::Failed(core::mem::take(&mut self.failures))
            });
        }
    }

    /// Stops: running requests are dropped, what is stored is kept for the next attempt, and
    /// the multipart uploads of the files not stored are aborted.
    fn abort(&mut self, shell: &mut impl Shell) {
        self.over = true;
        shell.stop(None);
        for file in 0..self.queue.file_count() {
            if !self.queue.is_stored(file) && self.queue.is_multipart(file) {
                shell.abandon(file);
            }
        }
        self.queue.stop();
        shell.busy(false);
        shell.say(&Announcement::Stopped.text());
        shell.conclude(Conclusion::Stopped);
    }
}

impl Field {
    /// Takes the instructions of the `earlier` attempt's field `same` when they can serve this
    /// field at `now`: the same input with the same files, instructions not stale and still
    /// valid. The earlier field gives its instructions up either way. Answers the earlier
    /// attempt's number of its first file, whose key, and those of the next, this field takes
    /// for its files stored already.
    fn reuse(&mut self, earlier: &mut Attempt, same: EarlierField, now: f64) -> Option<usize> {
        let old = earlier.fields.get_mut(same.index)?;
        let usable = old.signed.as_ref().is_some_and(|signed| {
            let multipart = signed.shapes.iter().any(|shape| matches!(shape, Shape::Multipart { .. }));
            !old.stale && same.same_files && retry::reusable(signed.expires_at, multipart, now)
        });
        self.signed = Some(old.signed.take().filter(|_| usable)?);
        self.reused = true;
        Some(old.first_file)
    }
}

#[cfg(test)]
mod tests;
