//! The schedule of one attempt at uploading a form's files: what is sent next, how many
//! transfers go at once, what came of each file, and the bytes that count as sent.
//!
//! Files are numbered across the whole form, the first input's files first, each input's in its
//! own order; every file belongs to one field (one input). A file waits until it is signed,
//! then its parts (see `parts`; a file sent whole is one part) take the `limit` slots, which all
//! files share: the first file's parts go first, so files finish in order. A file whose part
//! URLs are being renewed is held: its parts in flight go on, no new one starts.

use alloc::string::String;
use alloc::vec::Vec;

use crate::parts::Parts;
use crate::progress::{fraction, sum, Progress};

#[derive(Debug)]
enum Slot {
    /// Its field is being signed.
    Unsigned,
    Sending {
        parts: Parts,
        held: bool,
    },
    Stored(String),
    Failed,
}

#[derive(Debug)]
struct File {
    field: usize,
    /// Its bytes, as progress counts them: 0 for a file an earlier attempt stored.
    size: f64,
    /// Bytes counted as sent when last recorded; all of them once it is stored.
    sent: f64,
    /// It goes up as a multipart upload (it is signed, and its parts are held at first).
    multipart: bool,
    slot: Slot,
}

#[derive(Debug)]
pub struct Queue {
    files: Vec<File>,
    limit: usize,
    running: usize,
}

impl Queue {
    /// No files yet; at most `limit` transfers (at least one) go at once.
    pub fn new(limit: usize) -> Queue {
        Queue { files: Vec::new(), limit: limit.max(1), running: 0 }
    }

    /// Adds the next file, of `field`, `size` bytes, with its key when an earlier attempt stored
    /// it already: progress then counts it as empty, since the totals count the files this
    /// attempt sends.
    pub fn add(&mut self, field: usize, size: f64, key: Option<String>) {
        let (size, slot) = match key {
            Some(key) => (0.0, Slot::Stored(key)),
            None => (size, Slot::Unsigned),
        };
        self.files.push(File { field, size, sent: 0.0, multipart: false, slot });
    }

    /// The file is signed: its parts may go, unless it is a `multipart` upload, which waits
    /// for part URLs.
    pub fn signed(&mut self, file: usize, parts: Parts, multipart: bool) {
        if let Some(entry @ File { slot: Slot::Unsigned, .. }) = self.files.get_mut(file) {
            entry.slot = Slot::Sending { parts, held: multipart };
            entry.multipart = multipart;
        }
    }

    /// Whether the file goes up as a multipart upload.
    pub fn is_multipart(&self, file: usize) -> bool {
        self.files.get(file).is_some_and(|file| file.multipart)
    }

    /// How many files there are.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// The field of the file.
    pub fn field(&self, file: usize) -> Option<usize> {
        self.files.get(file).map(|file| file.field)
    }

    /// Whether the file waits for its field's signature.
    pub fn is_unsigned(&self, file: usize) -> bool {
        matches!(self.files.get(file), Some(File { slot: Slot::Unsigned, .. }))
    }

    /// The field cannot be uploaded (signing failed, a file is too large): its files that are
    /// not stored yet fail.
    pub fn refused(&mut self, field: usize) {
        for file in 0..self.files.len() {
            if self.files.get(file).is_some_and(|file| file.field == field) {
                self.failed(file);
            }
        }
    }

    /// The next part to send, `(file, part number)`, when a slot is free; it now counts as
    /// running.
    pub fn start_next(&mut self) -> Option<(usize, u32)> {
        if self.running >= self.limit {
            return None;
        }
        for (file, entry) in self.files.iter_mut().enumerate() {
            if let Slot::Sending { parts, held: false } = &mut entry.slot {
                if let Some(number) = parts.take() {
                    self.running += 1;
                    return Some((file, number));
                }
            }
        }
        None
    }

    /// The file's parts, while it is sending.
    pub fn parts(&mut self, file: usize) -> Option<&mut Parts> {
        match self.files.get_mut(file) {
            Some(File { slot: Slot::Sending { parts, .. }, .. }) => Some(parts),
            _ => None,
        }
    }

    /// Holds the file's new parts back (its URLs are renewed), or lets them go again.
    pub fn hold(&mut self, file: usize, on: bool) {
        if let Some(File { slot: Slot::Sending { held, .. }, .. }) = self.files.get_mut(file) {
            *held = on;
        }
    }

    /// A running part has sent `fraction` of its bytes.
    pub fn progress(&mut self, file: usize, number: u32, fraction: f64) {
        if let Some(parts) = self.parts(file) {
            parts.progress(number, fraction);
        }
    }

    /// A running part is stored; answers whether that completes the file's parts.
    pub fn part_done(&mut self, file: usize, number: u32) -> bool {
        let Some(parts) = self.parts(file).filter(|parts| parts.is_running(number)) else { return false };
        parts.done(number);
        let complete = parts.is_complete();
        self.running -= 1;
        complete
    }

    /// A running part failed; it waits for [`Queue::wake`]. Answers its failures so far (see
    /// [`Parts::failed`]).
    pub fn part_failed(&mut self, file: usize, number: u32, counts: bool) -> u32 {
        let Some(parts) = self.parts(file) else { return 0 };
        let running = parts.is_running(number);
        let tries = parts.failed(number, counts);
        self.running -= usize::from(running);
        tries
    }

    /// A failed part may go again.
    pub fn wake(&mut self, file: usize, number: u32) {
        if let Some(parts) = self.parts(file) {
            parts.wake(number);
        }
    }

    /// Bytes of the file counted as sent.
    pub fn sent(&mut self, file: usize) -> f64 {
        self.parts(file).map_or(0.0, |parts| parts.sent())
    }

    /// Records the bytes of the file that count as sent now (see `parts`: a failed part takes
    /// its bytes back) and answers the file's own progress.
    pub fn record(&mut self, file: usize) -> f64 {
        let Some(entry) = self.files.get_mut(file) else { return 0.0 };
        let sent = match &entry.slot {
            Slot::Stored(_) => return 1.0,
            Slot::Sending { parts, .. } => parts.sent(),
            // What it had stored when it failed stays counted.
            Slot::Failed => entry.sent,
            Slot::Unsigned => 0.0,
        };
        // Not `clamp`, whose assertion would bring panic formatting into the wasm.
        #[allow(clippy::manual_clamp)]
        let sent = sent.max(0.0).min(entry.size);
        entry.sent = sent;
        fraction(sent, entry.size)
    }

    /// Where the files of `field` stand, or with `None` all the form's files.
    pub fn totals(&self, field: Option<usize>) -> Progress {
        let files = self.files.iter().filter(|file| field.is_none_or(|field| file.field == field));
        sum(files.map(|file| (file.sent, file.size, matches!(file.slot, Slot::Stored(_)))))
    }

    /// A file whose parts are all stored is stored under `key`: all its bytes count as sent.
    pub fn stored(&mut self, file: usize, key: String) {
        if let Some(entry @ File { slot: Slot::Sending { .. }, .. }) = self.files.get_mut(file) {
            entry.slot = Slot::Stored(key);
            entry.sent = entry.size;
        }
    }

    /// The file cannot be stored: it fails, and its parts in flight no longer count (the
    /// caller drops them). Its parts stored already still count as sent: progress goes back
    /// by the failed parts only.
    pub fn failed(&mut self, file: usize) {
        let Some(entry) = self.files.get_mut(file) else { return };
        if let Slot::Sending { parts, .. } = &mut entry.slot {
            self.running -= parts.recall();
            entry.sent = parts.sent();
        }
        if !matches!(entry.slot, Slot::Stored(_)) {
            entry.slot = Slot::Failed;
        }
    }

    /// Everything not stored yet fails: the attempt is stopped.
    pub fn stop(&mut self) {
        for file in 0..self.files.len() {
            self.failed(file);
        }
    }

    /// Whether every file is stored or failed.
    pub fn is_over(&self) -> bool {
        self.files.iter().all(|file| matches!(file.slot, Slot::Stored(_) | Slot::Failed))
    }

    /// Whether the file is stored already (by this attempt or an earlier one).
    pub fn is_stored(&self, file: usize) -> bool {
        matches!(self.files.get(file), Some(File { slot: Slot::Stored(_), .. }))
    }

    /// The key of the file, once it is stored.
    pub fn key(&self, file: usize) -> Option<&str> {
        match self.files.get(file) {
            Some(File { slot: Slot::Stored(key), .. }) => Some(key),
            _ => None,
        }
    }

    /// Takes the key of the file if it is stored, for the next attempt, which then need not
    /// send it.
    pub fn take_key(&mut self, file: usize) -> Option<String> {
        match self.files.get_mut(file) {
            Some(File { slot: Slot::Stored(key), .. }) => Some(core::mem::take(key)),
            _ => None,
        }
    }

    /// The keys of the stored files of `field`, in file order.
    pub fn stored_keys(&self, field: usize) -> impl Iterator<Item = &str> + Clone {
        self.files.iter().filter_map(move |file| match &file.slot {
            Slot::Stored(key) if file.field == field => Some(key.as_str()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(size: f64) -> Parts {
        Parts::new(size, size, 1)
    }

    fn drain(queue: &mut Queue) -> Vec<(usize, u32)> {
        core::iter::from_fn(|| queue.start_next()).collect()
    }

    /// A queue of files of 10 bytes, of the fields `fields`, with `limit`.
    fn queue(fields: &[usize], limit: usize) -> Queue {
        let mut queue = Queue::new(limit);
        for &field in fields {
            queue.add(field, 10.0, None);
        }
        queue
    }

    fn keys(queue: &Queue, field: usize) -> Vec<&str> {
        queue.stored_keys(field).collect()
    }

    fn sign_all(queue: &mut Queue, files: core::ops::Range<usize>) {
        for file in files {
            queue.signed(file, whole(10.0), false);
        }
    }

    #[test]
    fn files_go_in_order_and_at_most_limit_at_once() {
        let mut queue = queue(&[0, 0, 1, 1, 1], 2);
        assert_eq!(queue.start_next(), None, "nothing goes before it is signed");
        sign_all(&mut queue, 0..5);
        assert_eq!(drain(&mut queue), [(0, 1), (1, 1)]);
        assert!(queue.part_done(1, 1));
        queue.stored(1, "k1".into());
        assert_eq!(drain(&mut queue), [(2, 1)]);
        queue.failed(0);
        queue.part_done(2, 1);
        queue.stored(2, "k2".into());
        assert_eq!(drain(&mut queue), [(3, 1), (4, 1)]);
        assert!(!queue.is_over());
        for file in [3, 4] {
            queue.part_done(file, 1);
            queue.stored(file, "k".into());
        }
        assert!(queue.is_over());
    }

    #[test]
    fn parts_of_several_files_share_the_slots_first_file_first() {
        let mut queue = queue(&[0, 0], 3);
        queue.signed(0, Parts::new(20.0, 10.0, 2), false);
        queue.signed(1, Parts::new(30.0, 10.0, 3), false);
        assert_eq!(drain(&mut queue), [(0, 1), (0, 2), (1, 1)]);
        assert!(!queue.part_done(0, 2), "part 1 is still on its way");
        assert_eq!(drain(&mut queue), [(1, 2)]);
        assert!(queue.part_done(0, 1));
        assert_eq!(queue.sent(0), 20.0);
        assert_eq!(drain(&mut queue), [(1, 3)]);
    }

    #[test]
    fn a_held_file_starts_no_part_until_released() {
        let mut queue = queue(&[0, 0], 4);
        queue.signed(0, Parts::new(20.0, 10.0, 2), true);
        queue.signed(1, whole(5.0), false);
        assert_eq!(drain(&mut queue), [(1, 1)]);
        queue.hold(0, false);
        assert_eq!(drain(&mut queue), [(0, 1), (0, 2)]);
    }

    #[test]
    fn a_failed_part_frees_its_slot_and_waits_to_be_woken() {
        let mut queue = queue(&[0], 1);
        queue.signed(0, Parts::new(20.0, 10.0, 2), false);
        assert_eq!(drain(&mut queue), [(0, 1)]);
        queue.progress(0, 1, 0.5);
        assert_eq!(queue.sent(0), 5.0);
        assert_eq!(queue.part_failed(0, 1, true), 1);
        assert_eq!(queue.sent(0), 0.0);
        assert_eq!(drain(&mut queue), [(0, 2)], "the failed part waits; the next goes");
        queue.wake(0, 1);
        queue.part_done(0, 2);
        assert_eq!(drain(&mut queue), [(0, 1)]);
        assert_eq!(queue.parts(0).map(|parts| parts.remaining().collect::<Vec<_>>()), Some(vec![1]));
    }

    #[test]
    fn keys_come_back_in_file_order_whatever_order_the_files_finish_in() {
        let mut queue = queue(&[0, 0, 0], 4);
        sign_all(&mut queue, 0..3);
        drain(&mut queue);
        for (file, key) in [(2, "c"), (0, "a")] {
            queue.part_done(file, 1);
            queue.stored(file, key.into());
        }
        assert_eq!(keys(&queue, 0), ["a", "c"]);
        queue.part_done(1, 1);
        queue.stored(1, "b".into());
        assert_eq!(keys(&queue, 0), ["a", "b", "c"]);
    }

    #[test]
    fn files_stored_by_an_earlier_attempt_are_not_sent_again() {
        let mut queue = Queue::new(4);
        queue.add(0, 10.0, Some("a".into()));
        queue.add(0, 10.0, None);
        assert!(queue.is_stored(0) && !queue.is_unsigned(0) && queue.is_unsigned(1));
        sign_all(&mut queue, 0..2);
        assert_eq!(drain(&mut queue), [(1, 1)]);
        queue.failed(1);
        assert!(queue.is_over());
        assert_eq!(keys(&queue, 0), ["a"]);
        assert_eq!((queue.take_key(0), queue.take_key(1)), (Some("a".into()), None));
    }

    #[test]
    fn a_refused_field_fails_its_files_and_leaves_the_others_going() {
        let mut queue = Queue::new(1);
        queue.add(0, 10.0, None);
        queue.add(1, 10.0, Some("b0".into()));
        queue.add(1, 10.0, None);
        queue.refused(1);
        assert_eq!(keys(&queue, 1), ["b0"], "a stored file stays stored");
        assert!(!queue.is_stored(2));
        assert!(!queue.is_over());
        sign_all(&mut queue, 0..1);
        assert_eq!(drain(&mut queue), [(0, 1)]);
        queue.part_done(0, 1);
        queue.stored(0, "a0".into());
        assert!(queue.is_over());
    }

    #[test]
    fn stopping_fails_everything_not_stored_and_frees_the_slots() {
        let mut queue = queue(&[0, 0, 1], 2);
        queue.signed(0, Parts::new(20.0, 10.0, 2), false);
        assert_eq!(drain(&mut queue), [(0, 1), (0, 2)]);
        queue.stop();
        assert!(queue.is_over());
        assert_eq!(queue.running, 0);
        assert_eq!(queue.start_next(), None);
    }

    #[test]
    fn outcomes_of_parts_that_are_not_running_free_no_slot() {
        let mut queue = queue(&[0, 0], 1);
        queue.signed(0, Parts::new(20.0, 10.0, 2), false);
        queue.signed(1, whole(10.0), false);
        assert_eq!(drain(&mut queue), [(0, 1)]);
        assert!(!queue.part_done(0, 2), "part 2 never started");
        assert_eq!(queue.part_failed(0, 2, true), 0);
        assert_eq!(drain(&mut queue), [], "the one slot is still taken");
        assert!(!queue.part_done(0, 1));
        assert_eq!(drain(&mut queue), [(0, 2)]);
    }

    #[test]
    fn outcomes_of_files_that_are_not_sending_are_ignored() {
        let mut queue = queue(&[0], 1);
        queue.stored(0, "too early".into());
        queue.failed(7);
        assert!(!queue.is_stored(0));
        assert_eq!(queue.part_failed(7, 1, true), 0);
    }

    #[test]
    fn the_limit_is_at_least_one() {
        let mut queue = queue(&[0], 0);
        sign_all(&mut queue, 0..1);
        assert_eq!(queue.start_next(), Some((0, 1)));
    }

    #[test]
    fn progress_sums_per_field_and_per_form() {
        // Field 0 has files of 100 and 300 bytes, field 1 one file of 600 bytes.
        let mut queue = Queue::new(4);
        for (field, size) in [(0, 100.0), (0, 300.0), (1, 600.0)] {
            queue.add(field, size, None);
        }
        assert_eq!(queue.totals(None), Progress { loaded: 0.0, total: 1000.0, progress: 0.0 });
        queue.signed(1, Parts::new(300.0, 300.0, 1), false);
        drain(&mut queue);
        queue.progress(1, 1, 0.5);
        assert_eq!(queue.record(1), 0.5);
        assert_eq!(queue.totals(Some(0)), Progress { loaded: 150.0, total: 400.0, progress: 0.375 });
        assert_eq!(queue.totals(Some(1)), Progress { loaded: 0.0, total: 600.0, progress: 0.0 });
        assert_eq!(queue.totals(None), Progress { loaded: 150.0, total: 1000.0, progress: 0.15 });
    }

    #[test]
    fn sent_bytes_stay_within_the_file_may_go_back_and_are_all_counted_once_stored() {
        let mut queue = Queue::new(4);
        queue.add(0, 100.0, None);
        queue.signed(0, Parts::new(150.0, 150.0, 1), false);
        drain(&mut queue);
        queue.progress(0, 1, 1.0);
        assert_eq!(queue.record(0), 1.0, "never more than the file");
        queue.part_failed(0, 1, true);
        assert_eq!(queue.record(0), 0.0, "a failed part takes its bytes back");
        queue.wake(0, 1);
        drain(&mut queue);
        queue.progress(0, 1, 0.4);
        assert_eq!(queue.record(0), 0.6);
        queue.part_done(0, 1);
        queue.stored(0, "a".into());
        assert_eq!(queue.record(0), 1.0, "a stored file stays complete");
        assert_eq!(queue.totals(None), Progress { loaded: 100.0, total: 100.0, progress: 1.0 });
    }

    #[test]
    fn a_failed_file_keeps_the_bytes_of_its_stored_parts() {
        let mut queue = Queue::new(4);
        queue.add(0, 30.0, None);
        queue.add(0, 10.0, None);
        queue.signed(0, Parts::new(30.0, 10.0, 3), false);
        assert_eq!(drain(&mut queue), [(0, 1), (0, 2), (0, 3)]);
        queue.progress(0, 1, 1.0);
        queue.part_done(0, 1);
        queue.progress(0, 2, 0.5);
        queue.progress(0, 3, 0.2);
        assert_eq!(queue.record(0), 17.0 / 30.0);
        queue.part_failed(0, 3, true);
        queue.failed(0);
        assert_eq!(queue.running, 0, "the part in flight is dropped");
        assert_eq!(queue.record(0), 1.0 / 3.0, "part 1 stays counted, parts 2 and 3 do not");
        assert_eq!(queue.totals(None), Progress { loaded: 10.0, total: 40.0, progress: 0.25 });
    }

    #[test]
    fn files_stored_earlier_and_empty_files_are_complete_once_stored() {
        let mut queue = Queue::new(4);
        queue.add(0, 0.0, None);
        queue.add(0, 50.0, Some("a".into()));
        assert_eq!(queue.totals(Some(0)).progress, 0.0);
        queue.signed(0, Parts::new(0.0, 0.0, 1), false);
        drain(&mut queue);
        queue.part_done(0, 1);
        queue.stored(0, "b".into());
        assert_eq!(queue.totals(Some(0)), Progress { loaded: 0.0, total: 0.0, progress: 1.0 });
    }
}
