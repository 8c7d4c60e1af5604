//! Every path of an attempt, driven by events as the shell would feed them; a recorder stands in
//! for the shell and keeps each call as a [`Command`].

use super::*;
use crate::backoff::delay_ms;
use crate::progress::Progress;

/// A call of the machine to its shell.
#[derive(Debug, PartialEq)]
enum Command {
    Busy(bool),
    Started { files: usize, total: f64 },
    Say(String),
    Sign { field: usize, max_size: Option<u64> },
    Remember { file: usize },
    Forget { file: usize },
    AskSigner { file: usize, step: SignerStep<Vec<u32>> },
    Send { file: usize, part: u32, range: (f64, f64) },
    Later { ms: f64, wake: Wake },
    WhenOnline(Wake),
    Stop(Option<usize>),
    Abandon { file: usize },
    Progress { file: usize, of_file: f64, of_form: Progress, of_input: Progress },
    Stored { file: usize, key: String },
    Conclude(Conclusion),
}

/// The shell of the tests: records what it is told; with `unsendable`, no request can be sent.
#[derive(Default)]
struct Recorder {
    commands: Vec<Command>,
    unsendable: Option<Failure>,
}

impl Recorder {
    fn sent(&self) -> Result<(), Failure> {
        self.unsendable.clone().map_or(Ok(()), Err)
    }
}

impl Shell for Recorder {
    fn busy(&mut self, on: bool) {
        self.commands.push(Command::Busy(on));
    }
    fn started(&mut self, files: usize, total: f64) {
        self.commands.push(Command::Started { files, total });
    }
    fn say(&mut self, text: &str) {
        self.commands.push(Command::Say(text.into()));
    }
    fn sign(&mut self, field: usize, max_size: Option<u64>) -> Result<(), Failure> {
        self.commands.push(Command::Sign { field, max_size });
        self.sent()
    }
    fn remember(&mut self, file: usize, signature: &str) {
        assert_eq!(signature, "sig");
        self.commands.push(Command::Remember { file });
    }
    fn forget(&mut self, file: usize) {
        self.commands.push(Command::Forget { file });
    }
    fn ask_signer(
        &mut self,
        file: usize,
        step: SignerStep<impl Iterator<Item = u32>>,
    ) -> Result<(), Failure> {
        let step = match step {
            SignerStep::PartUrls(numbers) => SignerStep::PartUrls(numbers.collect()),
            SignerStep::Complete => SignerStep::Complete,
        };
        self.commands.push(Command::AskSigner { file, step });
        self.sent()
    }
    fn send(&mut self, file: usize, part: u32, range: (f64, f64)) -> Result<(), Failure> {
        self.commands.push(Command::Send { file, part, range });
        self.sent()
    }
    fn later(&mut self, ms: f64, wake: Wake) {
        self.commands.push(Command::Later { ms, wake });
    }
    fn when_online(&mut self, wake: Wake) {
        self.commands.push(Command::WhenOnline(wake));
    }
    fn stop(&mut self, file: Option<usize>) {
        self.commands.push(Command::Stop(file));
    }
    fn abandon(&mut self, file: usize) {
        self.commands.push(Command::Abandon { file });
    }
    fn progress(&mut self, file: usize, of_file: f64, of_form: Progress, of_input: Progress) {
        self.commands.push(Command::Progress { file, of_file, of_form, of_input });
    }
    fn stored(&mut self, file: usize, key: &str) {
        self.commands.push(Command::Stored { file, key: key.into() });
    }
    fn conclude(&mut self, conclusion: Conclusion) {
        self.commands.push(Command::Conclude(conclusion));
    }
}

/// What the machine tells its shell while it handles `event` in `env`.
trait Handle {
    fn handle(&mut self, event: Event, env: Env) -> Vec<Command>;
}

impl Handle for Attempt {
    fn handle(&mut self, event: Event, env: Env) -> Vec<Command> {
        let mut recorder = Recorder::default();
        Attempt::on(self, event, env, &mut recorder);
        recorder.commands
    }
}

const NOW: f64 = 1_767_225_600_000.0;
const HOUR: f64 = 3_600_000.0;

fn online() -> Env {
    Env { now: NOW, online: true, random: 0.5 }
}

fn offline() -> Env {
    Env { online: false, ..online() }
}

fn field(sizes: &[f64]) -> FieldSetup {
    let files = sizes.iter().enumerate();
    let files =
        files.map(|(number, size)| FileFacts { name: format!("f{number}.bin"), size: *size }).collect();
    FieldSetup { files, max_size: None, given: None, earlier: None }
}

/// An attempt at `fields`, `limit` transfers at once, each tried twice more when it fails, in
/// place of `earlier`.
fn new_attempt(
    fields: Vec<FieldSetup>,
    limit: usize,
    retries: u32,
    mut earlier: Option<&mut Attempt>,
) -> Attempt {
    let mut attempt = Attempt::new(limit, retries);
    for field in fields {
        attempt.add(field, earlier.as_deref_mut(), NOW);
    }
    attempt
}

/// A file sent whole; the store answers its key when it is stored.
fn whole() -> Shape {
    Shape::Whole
}

/// A multipart upload of `part_count` parts of `part_size`, of which the store holds `done`.
fn multipart(part_size: f64, part_count: u32, done: &[u32]) -> Shape {
    Shape::Multipart { part_size, part_count, done: done.to_vec() }
}

fn signed(shapes: Vec<Shape>) -> Signed {
    Signed { signature: "sig".into(), expires_at: Some(NOW + HOUR), shapes }
}

/// An attempt at `fields`, started and, for each `(field, targets)` of `answers`, signed.
fn started(
    fields: Vec<FieldSetup>,
    limit: usize,
    answers: Vec<(usize, Vec<Shape>)>,
) -> (Attempt, Vec<Command>) {
    let mut attempt = new_attempt(fields, limit, 2, None);
    let mut commands = attempt.handle(Event::Start, online());
    for (field, targets) in answers {
        commands.extend(attempt.handle(Event::Signed { field, answer: Ok(signed(targets)) }, online()));
    }
    (attempt, commands)
}

fn sends(commands: &[Command]) -> Vec<(usize, u32)> {
    let sends = commands.iter().filter_map(|command| match command {
        Command::Send { file, part, .. } => Some((*file, *part)),
        _ => None,
    });
    sends.collect()
}

fn conclusion(commands: &[Command]) -> Option<&Conclusion> {
    commands.iter().find_map(|command| match command {
        Command::Conclude(conclusion) => Some(conclusion),
        _ => None,
    })
}

fn sent(file: usize, part: u32, key: &str) -> Event {
    Event::Sent { file, part, outcome: Ok(key.into()) }
}

fn refused(file: usize, part: u32, status: u16, verdict: Verdict) -> Event {
    let failure = if status == 0 {
        Failure::UploadUnreachable { file: "f.bin".into(), url: None }
    } else {
        Failure::UploadRefused { file: "f.bin".into(), status, reason: None }
    };
    Event::Sent { file, part, outcome: Err(Refusal { failure, verdict, unanswered: status == 0 }) }
}

fn keys(attempt: &Attempt, field: usize) -> Vec<&str> {
    attempt.stored_keys(field).map(|(_, keys)| keys.collect()).unwrap_or_default()
}

fn progress_of_form(commands: &[Command]) -> Vec<f64> {
    let progress = commands.iter().filter_map(|command| match command {
        Command::Progress { of_form, .. } => Some(of_form.progress),
        _ => None,
    });
    progress.collect()
}

#[test]
fn a_field_is_signed_then_its_files_go_a_few_at_a_time_then_the_keys_are_handed_over() {
    let mut attempt = new_attempt(vec![field(&[10.0, 30.0])], 1, 2, None);
    let commands = attempt.handle(Event::Start, online());
    assert_eq!(
        commands,
        [
            Command::Busy(true),
            Command::Started { files: 2, total: 40.0 },
            Command::Say("Uploading 2 files".into()),
            Command::Sign { field: 0, max_size: None },
        ]
    );

    let answer = Ok(signed(vec![whole(), whole()]));
    let commands = attempt.handle(Event::Signed { field: 0, answer }, online());
    assert_eq!(commands, [Command::Send { file: 0, part: 1, range: (0.0, 10.0) }], "one at a time");

    let commands = attempt.handle(Event::Progress { file: 0, part: 1, sent: 0.5 }, online());
    let of_form = Progress { loaded: 5.0, total: 40.0, progress: 0.125 };
    assert_eq!(commands, [Command::Progress { file: 0, of_file: 0.5, of_form, of_input: of_form }]);

    // The store has the last word on the key.
    let commands = attempt.handle(sent(0, 1, "k0-answered"), online());
    assert!(commands.contains(&Command::Stored { file: 0, key: "k0-answered".into() }));
    assert!(commands.contains(&Command::Say("25% uploaded".into())));
    assert_eq!(sends(&commands), [(1, 1)]);
    assert_eq!(conclusion(&commands), None);

    let commands = attempt.handle(sent(1, 1, "k1"), online());
    assert_eq!(progress_of_form(&commands), [1.0]);
    assert_eq!(
        &commands[commands.len() - 2..],
        [Command::Busy(false), Command::Conclude(Conclusion::Stored)]
    );
    assert!(attempt.is_over());
    assert_eq!(attempt.stored_keys(0).map(|(signature, _)| signature), Some("sig"));
    assert_eq!(keys(&attempt, 0), ["k0-answered", "k1"]);
}

#[test]
fn a_multipart_upload_gets_its_part_urls_sends_its_parts_and_completes() {
    let (mut attempt, commands) = started(vec![field(&[25.0])], 4, vec![(0, vec![multipart(10.0, 3, &[])])]);
    assert!(commands.ends_with(&[
        Command::Remember { file: 0 },
        Command::AskSigner { file: 0, step: SignerStep::PartUrls(vec![1, 2, 3]) },
    ]));
    assert_eq!(sends(&commands), [], "no part goes without its URL");

    let urls = SignerAnswer::PartUrls { numbers: vec![1, 2, 3], expires_at: NOW + HOUR };
    let commands = attempt.handle(Event::SignerAnswered { file: 0, answer: urls }, online());
    let ranges: Vec<_> = commands
        .iter()
        .filter_map(|command| match command {
            Command::Send { range, .. } => Some(*range),
            _ => None,
        })
        .collect();
    assert_eq!(ranges, [(0.0, 10.0), (10.0, 20.0), (20.0, 25.0)]);

    attempt.handle(sent(0, 3, ""), online());
    attempt.handle(sent(0, 1, ""), online());
    let commands = attempt.handle(sent(0, 2, ""), online());
    assert_eq!(commands, [Command::AskSigner { file: 0, step: SignerStep::Complete }]);

    let commands = attempt.handle(
        Event::SignerAnswered { file: 0, answer: SignerAnswer::Completed { key: "big".into() } },
        online(),
    );
    assert_eq!(commands.first(), Some(&Command::Forget { file: 0 }), "a completed upload is not resumed");
    assert!(commands.contains(&Command::Stored { file: 0, key: "big".into() }));
    assert_eq!(conclusion(&commands), Some(&Conclusion::Stored));
}

#[test]
fn a_resumed_upload_sends_only_the_parts_the_store_lacks() {
    let (mut attempt, commands) =
        started(vec![field(&[25.0])], 4, vec![(0, vec![multipart(10.0, 3, &[1, 3])])]);
    assert!(commands.contains(&Command::AskSigner { file: 0, step: SignerStep::PartUrls(vec![2]) }));
    let urls = SignerAnswer::PartUrls { numbers: vec![2], expires_at: NOW + HOUR };
    let commands = attempt.handle(Event::SignerAnswered { file: 0, answer: urls }, online());
    assert_eq!(sends(&commands), [(0, 2)]);
    let commands = attempt.handle(Event::Progress { file: 0, part: 2, sent: 0.0 }, online());
    assert_eq!(progress_of_form(&commands), [15.0 / 25.0], "the stored parts count as sent");
}

#[test]
fn failed_transfers_are_retried_after_growing_jittered_delays_while_tries_last() {
    // (what the store said, whether it is tried again)
    let cases = [
        (0, Verdict::Retry, true),
        (503, Verdict::Retry, true),
        (400, Verdict::Retry, true),
        (403, Verdict::Fatal, false),
        // A whole file's policy can only be renewed by signing again, at the next submit.
        (403, Verdict::Resign, false),
    ];
    for (status, verdict, retried) in cases {
        let (mut attempt, commands) = started(vec![field(&[10.0])], 4, vec![(0, vec![whole()])]);
        assert_eq!(sends(&commands), [(0, 1)]);
        let mut delays = Vec::new();
        let commands = loop {
            let commands = attempt.handle(refused(0, 1, status, verdict), online());
            let Some(Command::Later { ms, wake }) = commands.first() else { break commands };
            assert_eq!(*wake, Wake::Part { file: 0, part: 1 });
            delays.push(*ms);
            let commands = attempt.handle(Event::Woken(*wake), online());
            assert_eq!(sends(&commands), [(0, 1)], "status {status}: the part goes again once woken");
        };
        let expected = if retried { vec![delay_ms(1, 0.5), delay_ms(2, 0.5)] } else { vec![] };
        assert_eq!(delays, expected, "status {status}: two retries, each bound twice the last");
        assert_eq!(commands.first(), Some(&Command::Stop(Some(0))));
        let Some(Conclusion::Failed(failures)) = conclusion(&commands) else {
            panic!("status {status}: {commands:?}")
        };
        assert_eq!(failures.len(), 1);
    }
}

#[test]
fn an_expired_part_url_is_renewed_before_the_part_goes_again() {
    let (mut attempt, _) = started(vec![field(&[20.0])], 4, vec![(0, vec![multipart(10.0, 2, &[])])]);
    let urls = SignerAnswer::PartUrls { numbers: vec![1, 2], expires_at: NOW + HOUR };
    attempt.handle(Event::SignerAnswered { file: 0, answer: urls }, online());
    attempt.handle(sent(0, 2, ""), online());
    let commands = attempt.handle(refused(0, 1, 403, Verdict::Resign), online());
    let [Command::Later { wake, .. }] = commands.as_slice() else { panic!("{commands:?}") };
    let commands = attempt.handle(Event::Woken(*wake), online());
    assert_eq!(commands, [Command::AskSigner { file: 0, step: SignerStep::PartUrls(vec![1]) }]);
    let urls = SignerAnswer::PartUrls { numbers: vec![1], expires_at: NOW + HOUR };
    let commands = attempt.handle(Event::SignerAnswered { file: 0, answer: urls }, online());
    assert_eq!(sends(&commands), [(0, 1)]);
}

#[test]
fn part_urls_about_to_expire_are_renewed_before_a_part_starts() {
    let (mut attempt, _) = started(vec![field(&[20.0])], 1, vec![(0, vec![multipart(10.0, 2, &[])])]);
    // Valid for 40 more seconds: used until 20 s before, half the time left.
    let urls = SignerAnswer::PartUrls { numbers: vec![1, 2], expires_at: NOW + 40_000.0 };
    let commands = attempt.handle(Event::SignerAnswered { file: 0, answer: urls }, online());
    assert_eq!(sends(&commands), [(0, 1)]);
    let later = Env { now: NOW + 30_000.0, ..online() };
    let commands = attempt.handle(sent(0, 1, ""), later);
    assert_eq!(sends(&commands), []);
    assert!(commands.ends_with(&[Command::AskSigner { file: 0, step: SignerStep::PartUrls(vec![2]) }]));
}

#[test]
fn going_offline_pauses_the_attempt_without_using_up_tries() {
    let mut attempt = new_attempt(vec![field(&[10.0, 10.0])], 1, 0, None);
    attempt.handle(Event::Start, online());
    let commands =
        attempt.handle(Event::Signed { field: 0, answer: Ok(signed(vec![whole(), whole()])) }, online());
    assert_eq!(sends(&commands), [(0, 1)]);
    let commands = attempt.handle(refused(0, 1, 0, Verdict::Retry), offline());
    assert_eq!(commands, [Command::WhenOnline(Wake::Online)]);
    let commands = attempt.handle(Event::Woken(Wake::Online), online());
    assert_eq!(sends(&commands), [(0, 1)], "the same part goes again, though no retries are allowed");
}

#[test]
fn nothing_starts_while_the_browser_is_offline() {
    let mut attempt = new_attempt(vec![field(&[10.0])], 1, 2, None);
    let commands = attempt.handle(Event::Start, offline());
    assert!(
        commands.ends_with(&[Command::Sign { field: 0, max_size: None }, Command::WhenOnline(Wake::Online)])
    );
    let commands = attempt.handle(Event::Signed { field: 0, answer: Ok(signed(vec![whole()])) }, offline());
    assert_eq!(commands, [], "one wait for the network is enough");
    assert_eq!(sends(&attempt.handle(Event::Woken(Wake::Online), online())), [(0, 1)]);
}

#[test]
fn requests_to_the_signer_are_retried_and_wait_for_the_network() {
    let (mut attempt, _) = started(vec![field(&[20.0])], 4, vec![(0, vec![multipart(10.0, 2, &[])])]);
    let unavailable = || SignerAnswer::Refused {
        status: 503,
        failure: Failure::SignRefused { url: "/s3file/parts".into(), status: 503, reason: None },
    };
    let commands = attempt.handle(Event::SignerAnswered { file: 0, answer: unavailable() }, online());
    assert_eq!(commands, [Command::Later { ms: delay_ms(1, 0.5), wake: Wake::Signer { file: 0 } }]);
    let commands = attempt.handle(Event::Woken(Wake::Signer { file: 0 }), online());
    assert_eq!(commands, [Command::AskSigner { file: 0, step: SignerStep::PartUrls(vec![1, 2]) }]);

    let unreachable = SignerAnswer::Refused {
        status: 0,
        failure: Failure::SignUnreachable { url: "/s3file/parts".into() },
    };
    let commands = attempt.handle(Event::SignerAnswered { file: 0, answer: unreachable }, offline());
    assert_eq!(commands, [Command::WhenOnline(Wake::Signer { file: 0 }), Command::WhenOnline(Wake::Online)]);

    attempt.handle(Event::Woken(Wake::Online), online());
    attempt.handle(Event::Woken(Wake::Signer { file: 0 }), online());
    attempt.handle(Event::SignerAnswered { file: 0, answer: unavailable() }, online());
    attempt.handle(Event::Woken(Wake::Signer { file: 0 }), online());
    let commands = attempt.handle(Event::SignerAnswered { file: 0, answer: unavailable() }, online());
    assert_eq!(conclusion(&commands), Some(&Conclusion::Failed(vec![(0, unavailable_failure())])));
}

fn unavailable_failure() -> Failure {
    Failure::SignRefused { url: "/s3file/parts".into(), status: 503, reason: None }
}

#[test]
fn abort_stops_the_requests_gives_up_multipart_uploads_and_keeps_what_is_stored() {
    let targets = vec![whole(), multipart(10.0, 2, &[])];
    let (mut attempt, _) = started(vec![field(&[10.0, 20.0])], 4, vec![(0, targets)]);
    attempt.handle(sent(0, 1, "a"), online());
    let commands = attempt.handle(Event::Abort, online());
    assert_eq!(
        commands,
        [
            Command::Stop(None),
            Command::Abandon { file: 1 },
            Command::Busy(false),
            Command::Say("Upload stopped".into()),
            Command::Conclude(Conclusion::Stopped),
        ]
    );
    assert!(attempt.is_over());
    assert_eq!(attempt.handle(sent(0, 1, "late"), online()), [], "late events are ignored");
    assert_eq!(attempt.handle(Event::Abort, online()), []);
    assert_eq!(keys(&attempt, 0), ["a"]);
}

#[test]
fn a_field_that_cannot_be_uploaded_fails_and_the_others_go_on() {
    let too_large = FieldSetup { max_size: Some(15), ..field(&[10.0, 20.0]) };
    let mut attempt = new_attempt(vec![too_large, field(&[5.0]), field(&[5.0])], 4, 2, None);
    let commands = attempt.handle(Event::Start, online());
    assert!(!commands.contains(&Command::Sign { field: 0, max_size: Some(15) }), "it is not even signed");
    assert!(commands.contains(&Command::Sign { field: 1, max_size: None }));
    let refusal = Failure::SignRefused { url: "/s3file/sign".into(), status: 400, reason: None };
    attempt.handle(Event::Signed { field: 1, answer: Err(refusal.clone()) }, online());
    attempt.handle(Event::Signed { field: 2, answer: Ok(signed(vec![whole()])) }, online());
    let commands = attempt.handle(sent(3, 1, "c"), online());
    let too_large = Failure::TooLarge { file: "f1.bin".into(), size: 20, max: 15 };
    assert_eq!(conclusion(&commands), Some(&Conclusion::Failed(vec![(0, too_large), (1, refusal)])));
    assert_eq!(keys(&attempt, 2), ["c"]);
}

#[test]
fn a_request_that_cannot_be_sent_fails_its_file_or_field() {
    let failure = Failure::UploadUnreachable { file: "f0.bin".into(), url: Some("not a url".into()) };
    let mut recorder = Recorder { unsendable: Some(failure.clone()), ..Recorder::default() };
    let mut attempt = new_attempt(vec![field(&[10.0]), field(&[10.0])], 4, 2, None);
    attempt.on(Event::Start, online(), &mut recorder);
    let mut commands = core::mem::take(&mut recorder.commands);
    assert!(commands.contains(&Command::Sign { field: 0, max_size: None }));
    assert_eq!(
        conclusion(&commands),
        Some(&Conclusion::Failed(vec![(0, failure.clone()), (1, failure.clone())]))
    );

    let given = FieldSetup { given: Some(signed(vec![whole()])), ..field(&[10.0]) };
    let mut attempt = new_attempt(vec![given], 4, 2, None);
    attempt.on(Event::Start, online(), &mut recorder);
    commands.clear();
    commands.append(&mut recorder.commands);
    assert_eq!(sends(&commands), [(0, 1)]);
    assert!(commands.contains(&Command::Stop(Some(0))));
    assert_eq!(conclusion(&commands), Some(&Conclusion::Failed(vec![(0, failure)])));
}

#[test]
fn markup_instructions_need_no_signer() {
    let given = FieldSetup { given: Some(signed(vec![whole()])), ..field(&[10.0]) };
    let mut attempt = new_attempt(vec![given], 4, 2, None);
    let commands = attempt.handle(Event::Start, online());
    assert_eq!(sends(&commands), [(0, 1)]);
    assert!(!commands.iter().any(|command| matches!(command, Command::Sign { .. })));
}

/// An attempt at one field of two files whose first is stored and whose second was refused.
fn failed_attempt(targets: Vec<Shape>) -> Attempt {
    let (mut attempt, _) = started(vec![field(&[10.0, 20.0])], 4, vec![(0, targets)]);
    let urls = SignerAnswer::PartUrls { numbers: vec![1, 2], expires_at: NOW + HOUR };
    attempt.handle(Event::SignerAnswered { file: 1, answer: urls }, online());
    attempt.handle(sent(0, 1, "a"), online());
    let commands = attempt.handle(refused(1, 1, 403, Verdict::Fatal), online());
    assert!(matches!(conclusion(&commands), Some(Conclusion::Failed(_))));
    attempt
}

/// The next attempt at the same field, in place of `earlier`, which it takes for `same`.
fn again(same: Option<EarlierField>, earlier: &mut Attempt, now: f64) -> Attempt {
    let mut attempt = Attempt::new(4, 2);
    attempt.add(FieldSetup { earlier: same, ..field(&[10.0, 20.0]) }, Some(earlier), now);
    attempt
}

const SAME: Option<EarlierField> = Some(EarlierField { index: 0, same_files: true });

#[test]
fn the_next_attempt_reuses_the_instructions_and_sends_only_what_failed() {
    let mut earlier = failed_attempt(vec![whole(), whole()]);
    let mut attempt = again(SAME, &mut earlier, NOW);
    assert!(attempt.is_reused(0));
    let commands = attempt.handle(Event::Start, online());
    assert_eq!(commands[1], Command::Started { files: 1, total: 20.0 }, "the stored file counts as empty");
    assert_eq!(sends(&commands), [(1, 1)], "no signing, no second upload of the stored file");
    let commands = attempt.handle(sent(1, 1, "b"), online());
    assert_eq!(conclusion(&commands), Some(&Conclusion::Stored));
    assert_eq!(keys(&attempt, 0), ["a", "b"]);
}

#[test]
fn instructions_serve_the_next_attempt_only_while_they_are_good_for_it() {
    /// What differs from the reuse that works: `change` to the earlier attempt, the field it
    /// takes for the same input, when it starts.
    struct Case {
        name: &'static str,
        change: fn(&mut Attempt),
        same: Option<EarlierField>,
        now: f64,
    }
    let unchanged = |_: &mut Attempt| {};
    let cases = [
        Case {
            name: "other files",
            change: unchanged,
            same: Some(EarlierField { index: 0, same_files: false }),
            now: NOW,
        },
        Case { name: "another input", change: unchanged, same: None, now: NOW },
        Case { name: "files chosen again", change: |attempt| attempt.forget(0), same: SAME, now: NOW },
        Case { name: "about to expire", change: unchanged, same: SAME, now: NOW + HOUR - 30_000.0 },
        Case { name: "multipart", change: unchanged, same: SAME, now: NOW },
    ];
    for Case { name: case, change, same: earlier_field, now } in cases {
        let targets =
            if case == "multipart" { vec![whole(), multipart(10.0, 2, &[])] } else { vec![whole(), whole()] };
        let mut earlier = failed_attempt(targets);
        change(&mut earlier);
        let mut attempt = again(earlier_field, &mut earlier, now);
        assert!(!attempt.is_reused(0), "{case}");
        let commands = attempt.handle(Event::Start, online());
        assert!(commands.contains(&Command::Sign { field: 0, max_size: None }), "{case}");
        assert_eq!(commands[1], Command::Started { files: 2, total: 30.0 }, "{case}: both files go again");
    }
}

#[test]
fn a_reused_policy_the_store_refuses_is_not_reused_again() {
    let mut first = failed_attempt(vec![whole(), whole()]);
    let mut second = again(SAME, &mut first, NOW);
    second.handle(Event::Start, online());
    second.handle(refused(1, 1, 403, Verdict::Fatal), online());
    let mut third = again(SAME, &mut second, NOW);
    assert!(!third.is_reused(0));
    assert!(third.handle(Event::Start, online()).contains(&Command::Sign { field: 0, max_size: None }));
}

#[test]
fn progress_is_counted_per_input_and_for_the_form_and_announced_by_quarters() {
    let (mut attempt, _) =
        started(vec![field(&[30.0]), field(&[10.0])], 4, vec![(0, vec![whole()]), (1, vec![whole()])]);
    let commands = attempt.handle(Event::Progress { file: 1, part: 1, sent: 0.5 }, online());
    let [Command::Progress { file: 1, of_file, of_form, of_input }] = commands.as_slice() else {
        panic!("{commands:?}")
    };
    assert_eq!(*of_file, 0.5);
    assert_eq!(*of_input, Progress { loaded: 5.0, total: 10.0, progress: 0.5 });
    assert_eq!(*of_form, Progress { loaded: 5.0, total: 40.0, progress: 0.125 });

    let commands = attempt.handle(Event::Progress { file: 0, part: 1, sent: 0.5 }, online());
    assert_eq!(progress_of_form(&commands), [20.0 / 40.0]);
    assert!(commands.contains(&Command::Say("50% uploaded".into())), "{commands:?}");
    let commands = attempt.handle(Event::Progress { file: 0, part: 1, sent: 0.6 }, online());
    assert!(!commands.iter().any(|command| matches!(command, Command::Say(_))), "50% is said once");

    // A failed try takes its bytes back.
    let commands = attempt.handle(refused(0, 1, 503, Verdict::Retry), online());
    assert!(matches!(commands.as_slice(), [Command::Later { .. }]));
    let commands = attempt.handle(Event::Progress { file: 1, part: 1, sent: 0.5 }, online());
    assert_eq!(progress_of_form(&commands), [5.0 / 40.0]);
}
