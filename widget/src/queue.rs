//! The schedule of one attempt at uploading a form's files: which file goes next, how many go at
//! once, and what came of each.
//!
//! Files are numbered across the whole form, the first input's files first, each input's in its
//! own order; every file belongs to one field (one input). A file waits until its field is
//! signed, then until one of the `limit` slots is free.

use alloc::string::String;
use alloc::vec::Vec;

#[derive(Debug, Clone, PartialEq)]
enum Slot {
    /// Its field is being signed.
    Unsigned,
    Ready,
    Running,
    Stored(String),
    Failed,
}

#[derive(Debug)]
pub struct Queue {
    /// `(field, slot)` per file.
    files: Vec<(usize, Slot)>,
    limit: usize,
    running: usize,
}

impl Queue {
    /// `files` yields each file's field and, when an earlier attempt stored it already, its key.
    /// At most `limit` files (at least one) are uploaded at once.
    pub fn new(files: Vec<(usize, Option<String>)>, limit: usize) -> Queue {
        let files =
            files.into_iter().map(|(field, key)| (field, key.map_or(Slot::Unsigned, Slot::Stored))).collect();
        Queue { files, limit: limit.max(1), running: 0 }
    }

    /// The field's upload instructions are here: its waiting files may go.
    pub fn signed(&mut self, field: usize) {
        self.move_files(field, Slot::Unsigned, Slot::Ready);
    }

    /// The field cannot be uploaded (signing failed, a file is too large): its files that are
    /// not stored yet fail without being sent.
    pub fn refused(&mut self, field: usize) {
        self.move_files(field, Slot::Unsigned, Slot::Failed);
        self.move_files(field, Slot::Ready, Slot::Failed);
    }

    fn move_files(&mut self, field: usize, from: Slot, to: Slot) {
        for (file_field, slot) in &mut self.files {
            if *file_field == field && *slot == from {
                *slot = to.clone();
            }
        }
    }

    /// The next file to send, in file order, when a slot is free; it now counts as running.
    pub fn start_next(&mut self) -> Option<usize> {
        if self.running >= self.limit {
            return None;
        }
        let index = self.files.iter().position(|(_, slot)| *slot == Slot::Ready)?;
        self.files[index].1 = Slot::Running;
        self.running += 1;
        Some(index)
    }

    /// A running file is stored under `key`.
    pub fn stored(&mut self, file: usize, key: String) {
        self.finish(file, Slot::Stored(key));
    }

    /// A running file could not be stored.
    pub fn failed(&mut self, file: usize) {
        self.finish(file, Slot::Failed);
    }

    fn finish(&mut self, file: usize, outcome: Slot) {
        let Some((_, slot)) = self.files.get_mut(file) else {
            return;
        };
        if *slot == Slot::Running {
            self.running -= 1;
            *slot = outcome;
        }
    }

    /// Everything not stored yet fails: the attempt is stopped.
    pub fn stop(&mut self) {
        for (_, slot) in &mut self.files {
            if !matches!(slot, Slot::Stored(_)) {
                *slot = Slot::Failed;
            }
        }
        self.running = 0;
    }

    /// Whether every file is stored or failed.
    pub fn is_over(&self) -> bool {
        self.files.iter().all(|(_, slot)| matches!(slot, Slot::Stored(_) | Slot::Failed))
    }

    /// Whether the file is stored already (by this attempt or an earlier one).
    pub fn is_stored(&self, file: usize) -> bool {
        matches!(self.files.get(file), Some((_, Slot::Stored(_))))
    }

    /// The key of each file of `field`, in order, `None` for those not stored.
    pub fn keys(&self, field: usize) -> Vec<Option<String>> {
        let keys = self.files.iter().filter(|(file_field, _)| *file_field == field);
        keys.map(|(_, slot)| if let Slot::Stored(key) = slot { Some(key.clone()) } else { None }).collect()
    }

    /// The keys of `field` in file order when all its files are stored.
    pub fn all_keys(&self, field: usize) -> Option<Vec<String>> {
        self.keys(field).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(queue: &mut Queue) -> Vec<usize> {
        core::iter::from_fn(|| queue.start_next()).collect()
    }

    #[test]
    fn files_go_in_order_and_at_most_limit_at_once() {
        let mut queue = Queue::new(vec![(0, None), (0, None), (1, None), (1, None), (1, None)], 2);
        assert_eq!(queue.start_next(), None, "nothing goes before its field is signed");
        queue.signed(1);
        queue.signed(0);
        assert_eq!(drain(&mut queue), [0, 1]);
        queue.stored(1, "k1".into());
        assert_eq!(drain(&mut queue), [2]);
        queue.failed(0);
        queue.stored(2, "k2".into());
        assert_eq!(drain(&mut queue), [3, 4]);
        assert!(!queue.is_over());
        queue.stored(3, "k3".into());
        queue.stored(4, "k4".into());
        assert!(queue.is_over());
    }

    #[test]
    fn keys_come_back_in_file_order_whatever_order_the_files_finish_in() {
        let mut queue = Queue::new(vec![(0, None), (0, None), (0, None)], 4);
        queue.signed(0);
        assert_eq!(drain(&mut queue), [0, 1, 2]);
        queue.stored(2, "c".into());
        queue.stored(0, "a".into());
        assert_eq!(queue.all_keys(0), None);
        queue.stored(1, "b".into());
        assert_eq!(queue.all_keys(0), Some(vec!["a".into(), "b".into(), "c".into()]));
    }

    #[test]
    fn files_stored_by_an_earlier_attempt_are_not_sent_again() {
        let mut queue = Queue::new(vec![(0, Some("a".into())), (0, None)], 4);
        assert!(queue.is_stored(0));
        queue.signed(0);
        assert_eq!(drain(&mut queue), [1]);
        queue.failed(1);
        assert!(queue.is_over());
        assert_eq!(queue.keys(0), [Some("a".into()), None]);
        assert_eq!(queue.all_keys(0), None);
    }

    #[test]
    fn a_refused_field_fails_its_files_and_leaves_the_others_going() {
        let mut queue = Queue::new(vec![(0, None), (1, Some("b0".into())), (1, None)], 1);
        queue.refused(1);
        assert_eq!(queue.keys(1), [Some("b0".into()), None], "a stored file stays stored");
        assert!(!queue.is_over());
        queue.signed(0);
        assert_eq!(drain(&mut queue), [0]);
        queue.stored(0, "a0".into());
        assert!(queue.is_over());
    }

    #[test]
    fn stopping_fails_everything_not_stored() {
        let mut queue = Queue::new(vec![(0, None), (0, None), (1, None)], 1);
        queue.signed(0);
        assert_eq!(drain(&mut queue), [0]);
        queue.stored(0, "a".into());
        assert_eq!(drain(&mut queue), [1]);
        queue.stop();
        assert!(queue.is_over());
        assert_eq!(queue.keys(0), [Some("a".into()), None]);
        assert_eq!(queue.start_next(), None);
    }

    #[test]
    fn outcomes_of_files_that_are_not_running_are_ignored() {
        let mut queue = Queue::new(vec![(0, None)], 1);
        queue.stored(0, "too early".into());
        queue.failed(7);
        assert_eq!(queue.keys(0), [None]);
        queue.signed(0);
        assert_eq!(queue.start_next(), Some(0));
    }

    #[test]
    fn the_limit_is_at_least_one() {
        let mut queue = Queue::new(vec![(0, None)], 0);
        queue.signed(0);
        assert_eq!(queue.start_next(), Some(0));
    }
}
