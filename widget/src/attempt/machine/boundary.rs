//! What goes into the attempt's state machine and what comes out of it: what the shell read
//! from the page, the events it feeds in, and the [`Shell`] the machine calls to act.

use alloc::string::String;
use alloc::vec::Vec;

use crate::backoff::Verdict;
use crate::failure::Failure;
use crate::progress::Progress;

/// One upgraded file input with files to upload, as the shell read it from the page when the
/// form was submitted.
pub struct FieldSetup {
    /// Its files, in the input's order.
    pub files: Vec<FileFacts>,
    /// The page's size limit for them (`data-s3file-max-size`).
    pub max_size: Option<u64>,
    /// Its instructions when the input carries them (django-s3file's markup); `None` when the
    /// signer is asked.
    pub given: Option<Signed>,
    /// The field of the form's last attempt that is the same input, if any.
    pub earlier: Option<EarlierField>,
}

/// A field of the last attempt that is the same input as a field of this one.
#[derive(Clone, Copy)]
pub struct EarlierField {
    pub index: usize,
    /// Whether the input still holds the same files.
    pub same_files: bool,
}

pub struct FileFacts {
    pub name: String,
    pub size: f64,
}

/// A field's instructions: what proves its keys, and how each of its files goes up.
pub struct Signed {
    /// Proves to finalize that the keys were issued for this field.
    pub signature: String,
    /// When the first file's POST policy expires, in Unix milliseconds, if it says.
    pub expires_at: Option<f64>,
    /// One per file, in order.
    pub shapes: Vec<Shape>,
}

/// How a file goes up.
pub enum Shape {
    /// In one request: a POST of the policy's fields and the file, or a presigned PUT.
    Whole,
    /// A multipart upload, `part_count` parts of `part_size` bytes; `done` lists the parts the
    /// store holds already (the upload is resumed).
    Multipart { part_size: f64, part_count: u32, done: Vec<u32> },
}

/// What the page is like when an event comes.
#[derive(Clone, Copy)]
pub struct Env {
    /// Unix milliseconds.
    pub now: f64,
    /// `navigator.onLine`.
    pub online: bool,
    /// Uniform in [0, 1), for the jitter of retry delays.
    pub random: f64,
}

pub enum Event {
    /// The attempt begins.
    Start,
    /// The signer answered field `field`'s sign request.
    Signed { field: usize, answer: Result<Signed, Failure> },
    /// Part `part` of `file` (1 for a file sent whole) has sent the fraction `sent` of its body.
    Progress { file: usize, part: u32, sent: f64 },
    /// Part `part` of `file` is over: stored (for a whole file, with the key the store
    /// answered), or refused.
    Sent { file: usize, part: u32, outcome: Result<String, Refusal> },
    /// The signer answered a request about the multipart upload of `file`.
    SignerAnswered { file: usize, answer: SignerAnswer },
    /// A timer the machine set, or the browser's `online`, came.
    Woken(Wake),
    /// The page stopped the upload.
    Abort,
}

/// Why a transfer failed.
pub struct Refusal {
    pub failure: Failure,
    pub verdict: Verdict,
    /// No HTTP answer came (network, CORS, stall, abort).
    pub unanswered: bool,
}

pub enum SignerAnswer {
    /// URLs for the parts `numbers`, valid until `expires_at` (Unix milliseconds).
    PartUrls { numbers: Vec<u32>, expires_at: f64 },
    /// The multipart upload is complete: the file is stored under `key`.
    Completed { key: String },
    /// An error `status` (0: no answer), which means `failure` if it is final.
    Refused { status: u16, failure: Failure },
}

/// What to ask the signer about a multipart upload.
#[derive(Debug, PartialEq)]
pub enum SignerStep<Numbers> {
    /// URLs for the parts numbered `Numbers` (an iterator; a list in the tests).
    PartUrls(Numbers),
    /// Completion: every part is stored.
    Complete,
}

/// What a timer (or the browser's `online`) wakes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wake {
    /// Part `part` of `file` may be tried again.
    Part { file: usize, part: u32 },
    /// The request to the signer about `file`'s multipart upload is made again.
    Signer { file: usize },
    /// The browser is online again: transfers may start.
    Online,
}

/// What the machine has the page and the network do. A request that cannot be sent at all (a
/// URL that does not parse, say) answers `Err`, and its file or field fails.
pub trait Shell {
    /// Marks the form busy, or not.
    fn busy(&mut self, on: bool);
    /// `s3file:start`: `files` are to be sent, `total` bytes.
    fn started(&mut self, files: usize, total: f64);
    /// Says `text` in the form's live region.
    fn say(&mut self, text: &str);
    /// Asks the signer for the instructions of field `field`, whose files may be `max_size`.
    fn sign(&mut self, field: usize, max_size: Option<u64>) -> Result<(), Failure>;
    /// Keeps `file`'s multipart upload, signed with the field's `signature`, across page
    /// loads, so a reload can resume it.
    fn remember(&mut self, file: usize, signature: &str);
    /// Forgets what `remember` kept: the upload completed.
    fn forget(&mut self, file: usize);
    /// Asks the signer about `file`'s multipart upload.
    fn ask_signer(&mut self, file: usize, step: SignerStep<impl Iterator<Item = u32>>)
        -> Result<(), Failure>;
    /// Sends the bytes `range` of `file` as part `part` (1 for a file sent whole).
    fn send(&mut self, file: usize, part: u32, range: (f64, f64)) -> Result<(), Failure>;
    /// Wakes `wake` after `ms` milliseconds.
    fn later(&mut self, ms: f64, wake: Wake);
    /// Wakes `wake` once the browser is online.
    fn when_online(&mut self, wake: Wake);
    /// Stops every request of `file`, or with `None` of the attempt.
    fn stop(&mut self, file: Option<usize>);
    /// Aborts `file`'s multipart upload on the store and forgets it: the user gave up on it.
    fn abandon(&mut self, file: usize);
    /// `progress` on the form and on `file`'s input: `file` is `of_file` through.
    fn progress(&mut self, file: usize, of_file: f64, of_form: Progress, of_input: Progress);
    /// `s3file:done`: `file` is stored under `key`.
    fn stored(&mut self, file: usize, key: &str);
    /// The attempt is over. The shell carries the conclusion out once the event is handled,
    /// when it can read the keys ([`Attempt::stored_keys`]).
    fn conclude(&mut self, conclusion: Conclusion);
}

#[derive(Debug, PartialEq)]
pub enum Conclusion {
    /// Every file is stored: the keys (see [`Attempt::stored_keys`]) are handed over.
    Stored,
    /// Each failure with the field it concerns, in the order they happened.
    Failed(Vec<(usize, Failure)>),
    /// The page stopped the attempt.
    Stopped,
}
