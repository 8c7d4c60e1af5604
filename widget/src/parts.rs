//! The parts of one multipart upload as the browser sends them: which part goes next, which wait
//! to be tried again, and how many bytes count as sent; and the upload's dealings with the
//! signer, which gives the parts their URLs and completes the upload.
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

#[derive(Debug, Clone, Copy)]
struct Part {
    state: State,
    tries: u32,
    /// Bytes counted as sent.
    sent: f64,
    /// The signer gave the part a URL (kept by the shell; see `attempt`).
    has_url: bool,
}

// Every access goes through `get`/`get_mut`: an index that could panic would bring the
// formatting machinery of panic messages into the wasm.
#[derive(Debug)]
pub struct Parts {
    size: f64,
    part_size: f64,
    parts: Vec<Part>,
    /// A request to the signer (part URLs, completion) is on its way.
    pub asking: bool,
    /// Failures of requests to the signer in a row.
    pub failures: u32,
    /// Until when the part URLs are used, in Unix milliseconds: a margin before they expire, so
    /// a part does not start on a URL about to be refused.
    pub fresh_until: f64,
}

impl Parts {
    /// A file of `size` bytes in `count` parts of `part_size`.
    pub fn new(size: f64, part_size: f64, count: u32) -> Parts {
        let part = Part { state: State::Pending, tries: 0, sent: 0.0, has_url: false };
        let parts = vec![part; count.max(1) as usize];
        Parts { size, part_size, parts, asking: false, failures: 0, fresh_until: 0.0 }
    }

    /// Part `number` is stored already (the upload is resumed): it is not sent.
    pub fn resumed(&mut self, number: u32) {
        let len = self.len(number);
        if let Some(part) = self.part(number) {
            part.state = State::Done;
            part.sent = len;
        }
    }

    /// The signer gave part `number` a URL.
    pub fn url_given(&mut self, number: u32) {
        if let Some(part) = self.part(number) {
            part.has_url = true;
        }
    }

    /// Whether part `number` has a URL.
    pub fn has_url(&self, number: u32) -> bool {
        let index = (number as usize).wrapping_sub(1);
        self.parts.get(index).is_some_and(|part| part.has_url)
    }

    fn part(&mut self, number: u32) -> Option<&mut Part> {
        self.parts.get_mut((number as usize).checked_sub(1)?)
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
    pub fn take(&mut self) -> Option<u32> {
        let (index, part) =
            self.parts.iter_mut().enumerate().find(|(_, part)| part.state == State::Pending)?;
        part.state = State::Sending;
        part.sent = 0.0;
        Some(index as u32 + 1)
    }

    /// Whether part `number` is on its way.
    pub fn is_running(&self, number: u32) -> bool {
        let index = (number as usize).wrapping_sub(1);
        self.parts.get(index).is_some_and(|part| part.state == State::Sending)
    }

    /// Whether a part waits for a free slot.
    pub fn has_pending(&self) -> bool {
        self.parts.iter().any(|part| part.state == State::Pending)
    }

    /// Parts not stored yet, in order: those that need URLs.
    pub fn remaining(&self) -> impl Iterator<Item = u32> + '_ {
        let numbers = self.parts.iter().enumerate().filter(|(_, part)| part.state != State::Done);
        numbers.map(|(index, _)| index as u32 + 1)
    }

    /// A sending part has sent `fraction` of its bytes.
    pub fn progress(&mut self, number: u32, fraction: f64) {
        // Not `clamp`, whose assertion would bring panic formatting into the wasm.
        #[allow(clippy::manual_clamp)]
        let bytes = fraction.max(0.0).min(1.0) * self.len(number);
        if let Some(part) = self.part(number).filter(|part| part.state == State::Sending) {
            part.sent = part.sent.max(bytes);
        }
    }

    /// A sending part is stored.
    pub fn done(&mut self, number: u32) {
        let len = self.len(number);
        if let Some(part) = self.part(number).filter(|part| part.state == State::Sending) {
            part.state = State::Done;
            part.sent = len;
        }
    }

    /// A sending part failed: its bytes no longer count, and it waits for [`Parts::wake`].
    /// Returns how many times it has failed, this time included if it `counts` (a failure
    /// while the browser is offline does not).
    pub fn failed(&mut self, number: u32, counts: bool) -> u32 {
        let Some(part) = self.part(number) else { return 0 };
        if part.state == State::Sending {
            part.state = State::Waiting;
            part.sent = 0.0;
            part.tries += u32::from(counts);
        }
        part.tries
    }

    /// A waiting part may go again.
    pub fn wake(&mut self, number: u32) {
        if let Some(part) = self.part(number).filter(|part| part.state == State::Waiting) {
            part.state = State::Pending;
        }
    }

    /// Every part in flight goes back to pending without counting as a failure (the network
    /// went away, or the URLs must be renewed); returns how many there were.
    pub fn recall(&mut self) -> usize {
        let mut recalled = 0;
        for part in self.parts.iter_mut().filter(|part| part.state == State::Sending) {
            part.state = State::Pending;
            part.sent = 0.0;
            recalled += 1;
        }
        recalled
    }

    /// Bytes counted as sent, over all parts.
    pub fn sent(&self) -> f64 {
        self.parts.iter().map(|part| part.sent).sum()
    }

    /// Whether every part is stored.
    pub fn is_complete(&self) -> bool {
        self.parts.iter().all(|part| part.state == State::Done)
    }

    /// Whether a part is on its way.
    pub fn is_sending(&self) -> bool {
        self.parts.iter().any(|part| part.state == State::Sending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1024.0 * 1024.0;

    #[test]
    fn parts_go_in_order_and_cover_the_file() {
        let mut parts = Parts::new(12.0 * MIB + 3.0, 5.0 * MIB, 3);
        assert_eq!(parts.range(1), (0.0, 5.0 * MIB));
        assert_eq!(parts.range(3), (10.0 * MIB, 12.0 * MIB + 3.0));
        assert_eq!(
            (parts.take(), parts.take(), parts.take(), parts.take()),
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
        let mut parts = Parts::new(15.0 * MIB, 5.0 * MIB, 3);
        for number in [1, 3, 9] {
            parts.resumed(number);
        }
        assert_eq!(parts.sent(), 10.0 * MIB);
        assert_eq!(parts.remaining().collect::<Vec<_>>(), [2]);
        assert_eq!((parts.take(), parts.take()), (Some(2), None));
    }

    #[test]
    fn a_failure_takes_back_that_parts_bytes_only() {
        let mut parts = Parts::new(10.0 * MIB, 5.0 * MIB, 2);
        parts.take();
        parts.take();
        parts.progress(1, 0.5);
        parts.progress(2, 1.0);
        parts.done(2);
        assert_eq!(parts.sent(), 7.5 * MIB);
        assert_eq!(parts.failed(1, true), 1);
        assert_eq!(parts.sent(), 5.0 * MIB, "only part 1's bytes are taken back");
        assert_eq!(parts.take(), None, "a failed part waits for its delay");
        parts.wake(1);
        assert_eq!(parts.take(), Some(1));
        parts.progress(1, 0.2);
        assert_eq!(parts.failed(1, true), 2, "tries add up");
        parts.wake(1);
        parts.take();
        parts.progress(1, 1.0);
        parts.done(1);
        assert_eq!(parts.sent(), 10.0 * MIB, "exact at the end");
        assert!(parts.is_complete());
    }

    #[test]
    fn late_events_do_not_move_a_part() {
        let mut parts = Parts::new(10.0 * MIB, 5.0 * MIB, 2);
        parts.take();
        parts.progress(1, 0.8);
        parts.progress(1, 0.4);
        assert_eq!(parts.sent(), 4.0 * MIB, "progress within a try never goes back");
        parts.done(1);
        parts.progress(1, 0.1);
        assert_eq!(parts.failed(1, true), 0, "a stored part cannot fail");
        assert_eq!(parts.sent(), 5.0 * MIB);
        parts.progress(2, 0.5);
        assert_eq!(parts.sent(), 5.0 * MIB, "a part that is not sending has sent nothing");
    }

    #[test]
    fn recalled_parts_go_again_without_counting_as_failures() {
        let mut parts = Parts::new(10.0 * MIB, 5.0 * MIB, 2);
        parts.take();
        parts.progress(1, 0.5);
        assert_eq!(parts.recall(), 1);
        assert_eq!(parts.sent(), 0.0);
        assert_eq!(parts.take(), Some(1));
        assert_eq!(parts.failed(1, false), 0, "offline failures do not count");
        parts.wake(1);
        parts.take();
        assert_eq!(parts.failed(1, true), 1);
    }

    #[test]
    fn an_empty_file_has_one_empty_part() {
        let mut parts = Parts::new(0.0, 5.0 * MIB, 0);
        assert_eq!(parts.range(1), (0.0, 0.0));
        assert_eq!(parts.take(), Some(1));
        parts.done(1);
        assert!(parts.is_complete());
    }
}
