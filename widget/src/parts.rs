//! The parts of one multipart upload as the browser sends them: which part goes next, which wait
//! to be tried again, and how many bytes count as sent.
//!
//! Parts are numbered from 1, as in S3. Every part is `part_size` bytes but the last, which
//! holds the rest. A part that fails loses the bytes it had sent, and only those: progress goes
//! back by at most one part per failure and is exact again once the part is through.

use alloc::vec;
use alloc::vec::Vec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Sending,
    /// Failed; waits for its retry delay.
    Waiting,
    Done,
}

#[derive(Debug)]
pub struct Parts {
    size: f64,
    part_size: f64,
    states: Vec<State>,
    tries: Vec<u32>,
    /// Bytes of each part counted as sent.
    sent: Vec<f64>,
}

impl Parts {
    /// A file of `size` bytes in `count` parts of `part_size`, of which the parts numbered in
    /// `done` are stored already (a resumed upload).
    pub fn new(size: f64, part_size: f64, count: u32, done: &[u32]) -> Parts {
        let count = count.max(1) as usize;
        let mut parts = Parts {
            size,
            part_size,
            states: vec![State::Pending; count],
            tries: vec![0; count],
            sent: vec![0.0; count],
        };
        for &number in done {
            if let Some(index) = parts.index(number) {
                parts.states[index] = State::Done;
                parts.sent[index] = parts.len(number);
            }
        }
        parts
    }

    fn index(&self, number: u32) -> Option<usize> {
        let index = (number as usize).checked_sub(1)?;
        (index < self.states.len()).then_some(index)
    }

    /// The byte range `[start, end)` of part `number`.
    pub fn range(&self, number: u32) -> (f64, f64) {
        let start = f64::from(number.saturating_sub(1)) * self.part_size;
        (start.min(self.size), (start + self.part_size).min(self.size))
    }

    fn len(&self, number: u32) -> f64 {
        let (start, end) = self.range(number);
        end - start
    }

    /// The lowest pending part, now counted as sending.
    pub fn next(&mut self) -> Option<u32> {
        let index = self.states.iter().position(|state| *state == State::Pending)?;
        self.states[index] = State::Sending;
        self.sent[index] = 0.0;
        Some(index as u32 + 1)
    }

    /// Whether a part waits for a free slot.
    pub fn has_pending(&self) -> bool {
        self.states.contains(&State::Pending)
    }

    /// Parts not stored yet, in order: those that need URLs.
    pub fn remaining(&self) -> Vec<u32> {
        let numbers = self.states.iter().enumerate().filter(|(_, state)| **state != State::Done);
        numbers.map(|(index, _)| index as u32 + 1).collect()
    }

    /// A sending part has sent `fraction` of its bytes.
    pub fn progress(&mut self, number: u32, fraction: f64) {
        let Some(index) = self.index(number) else { return };
        if self.states[index] == State::Sending {
            let bytes = fraction.clamp(0.0, 1.0) * self.len(number);
            self.sent[index] = self.sent[index].max(bytes);
        }
    }

    /// A sending part is stored.
    pub fn done(&mut self, number: u32) {
        let Some(index) = self.index(number) else { return };
        if self.states[index] == State::Sending {
            self.states[index] = State::Done;
            self.sent[index] = self.len(number);
        }
    }

    /// A sending part failed: its bytes no longer count, and it waits for [`Parts::wake`].
    /// Returns how many times it has failed.
    pub fn failed(&mut self, number: u32) -> u32 {
        let Some(index) = self.index(number) else { return 0 };
        if self.states[index] != State::Sending {
            return self.tries[index];
        }
        self.states[index] = State::Waiting;
        self.sent[index] = 0.0;
        self.tries[index] += 1;
        self.tries[index]
    }

    /// A waiting part may go again.
    pub fn wake(&mut self, number: u32) {
        if let Some(index) = self.index(number) {
            if self.states[index] == State::Waiting {
                self.states[index] = State::Pending;
            }
        }
    }

    /// Every part in flight goes back to pending without counting as a failure (the network
    /// went away, or the URLs must be renewed); returns how many there were.
    pub fn recall(&mut self) -> usize {
        let mut recalled = 0;
        for (state, sent) in self.states.iter_mut().zip(&mut self.sent) {
            if *state == State::Sending {
                *state = State::Pending;
                *sent = 0.0;
                recalled += 1;
            }
        }
        recalled
    }

    /// Bytes counted as sent, over all parts.
    pub fn sent(&self) -> f64 {
        self.sent.iter().sum()
    }

    /// Whether every part is stored.
    pub fn is_complete(&self) -> bool {
        self.states.iter().all(|state| *state == State::Done)
    }

    /// Whether a part is on its way.
    pub fn is_sending(&self) -> bool {
        self.states.contains(&State::Sending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1024.0 * 1024.0;

    #[test]
    fn parts_go_in_order_and_cover_the_file() {
        let mut parts = Parts::new(12.0 * MIB + 3.0, 5.0 * MIB, 3, &[]);
        assert_eq!(parts.range(1), (0.0, 5.0 * MIB));
        assert_eq!(parts.range(3), (10.0 * MIB, 12.0 * MIB + 3.0));
        assert_eq!(
            (parts.next(), parts.next(), parts.next(), parts.next()),
            (Some(1), Some(2), Some(3), None)
        );
        assert!(!parts.has_pending() && parts.is_sending());
        for number in [2, 3, 1] {
            parts.done(number);
        }
        assert!(parts.is_complete());
        assert_eq!(parts.sent(), 12.0 * MIB + 3.0);
    }

    #[test]
    fn a_resumed_upload_sends_only_what_is_missing() {
        let mut parts = Parts::new(15.0 * MIB, 5.0 * MIB, 3, &[1, 3, 9]);
        assert_eq!(parts.sent(), 10.0 * MIB);
        assert_eq!(parts.remaining(), [2]);
        assert_eq!((parts.next(), parts.next()), (Some(2), None));
    }

    #[test]
    fn a_failure_takes_back_that_parts_bytes_only() {
        let mut parts = Parts::new(10.0 * MIB, 5.0 * MIB, 2, &[]);
        parts.next();
        parts.next();
        parts.progress(1, 0.5);
        parts.progress(2, 1.0);
        parts.done(2);
        assert_eq!(parts.sent(), 7.5 * MIB);
        assert_eq!(parts.failed(1), 1);
        assert_eq!(parts.sent(), 5.0 * MIB, "only part 1's bytes are taken back");
        assert_eq!(parts.next(), None, "a failed part waits for its delay");
        parts.wake(1);
        assert_eq!(parts.next(), Some(1));
        parts.progress(1, 0.2);
        assert_eq!(parts.failed(1), 2, "tries add up");
        parts.wake(1);
        parts.next();
        parts.progress(1, 1.0);
        parts.done(1);
        assert_eq!(parts.sent(), 10.0 * MIB, "exact at the end");
        assert!(parts.is_complete());
    }

    #[test]
    fn late_events_do_not_move_a_part() {
        let mut parts = Parts::new(10.0 * MIB, 5.0 * MIB, 2, &[]);
        parts.next();
        parts.progress(1, 0.8);
        parts.progress(1, 0.4);
        assert_eq!(parts.sent(), 4.0 * MIB, "progress within a try never goes back");
        parts.done(1);
        parts.progress(1, 0.1);
        assert_eq!(parts.failed(1), 0, "a stored part cannot fail");
        assert_eq!(parts.sent(), 5.0 * MIB);
        parts.progress(2, 0.5);
        assert_eq!(parts.sent(), 5.0 * MIB, "a part that is not sending has sent nothing");
    }

    #[test]
    fn recalled_parts_go_again_without_counting_as_failures() {
        let mut parts = Parts::new(10.0 * MIB, 5.0 * MIB, 2, &[]);
        parts.next();
        parts.progress(1, 0.5);
        assert_eq!(parts.recall(), 1);
        assert_eq!(parts.sent(), 0.0);
        assert_eq!(parts.next(), Some(1));
        assert_eq!(parts.failed(1), 1);
    }

    #[test]
    fn an_empty_file_has_one_empty_part() {
        let mut parts = Parts::new(0.0, 5.0 * MIB, 0, &[]);
        assert_eq!(parts.range(1), (0.0, 0.0));
        assert_eq!(parts.next(), Some(1));
        parts.done(1);
        assert!(parts.is_complete());
    }
}
