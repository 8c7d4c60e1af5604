//! Progress arithmetic for the `progress` events: bytes sent per file, summed per input and per
//! form.
//!
//! Byte counts are `f64` because that is what `File.size` and `ProgressEvent.loaded` are.

use alloc::vec::Vec;

/// Where an upload stands, as reported in an event's `detail`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Bytes of the files sent so far; never more than `total`.
    pub loaded: f64,
    /// Bytes of all the files.
    pub total: f64,
    /// `loaded / total`, in [0, 1].
    pub progress: f64,
}

/// `loaded / total`, clamped to [0, 1]. XHR counts include the multipart envelope, and a server
/// may report odd totals, so the raw quotient can leave the range or be NaN.
pub fn fraction(loaded: f64, total: f64) -> f64 {
    let quotient = loaded / total;
    if quotient.is_nan() || quotient < 0.0 {
        return 0.0;
    }
    quotient.min(1.0)
}

struct FileTally {
    input: usize,
    size: f64,
    sent: f64,
    done: bool,
}

/// Bytes sent for every file of one form submission. Files are numbered in the order they were
/// given to [`Tally::new`]; each belongs to one input.
pub struct Tally {
    files: Vec<FileTally>,
}

impl Tally {
    /// `files` yields `(input index, file size)` for every file to upload.
    pub fn new(files: impl IntoIterator<Item = (usize, f64)>) -> Tally {
        let files = files
            .into_iter()
            .map(|(input, size)| FileTally { input, size, sent: 0.0, done: false })
            .collect();
        Tally { files }
    }

    /// Records that `sent` bytes of `file` count as sent (see `parts`: a failed part takes its
    /// bytes back) and returns that file's own progress.
    pub fn record(&mut self, file: usize, sent: f64) -> f64 {
        let Some(tally) = self.files.get_mut(file) else {
            return 0.0;
        };
        if !tally.done {
            // Not `clamp`, whose assertion would bring panic formatting into the wasm.
            #[allow(clippy::manual_clamp)]
            let sent = sent.max(0.0).min(tally.size);
            tally.sent = sent;
        }
        if tally.done {
            1.0
        } else {
            fraction(tally.sent, tally.size)
        }
    }

    /// Marks `file` as stored: all its bytes count as sent.
    pub fn finish(&mut self, file: usize) {
        if let Some(tally) = self.files.get_mut(file) {
            tally.sent = tally.size;
            tally.done = true;
        }
    }

    /// Progress of the files of one input.
    pub fn input(&self, input: usize) -> Progress {
        sum(self.files.iter().filter(|file| file.input == input))
    }

    /// Progress of all the files of the form.
    pub fn form(&self) -> Progress {
        sum(self.files.iter())
    }
}

fn sum<'a>(files: impl Iterator<Item = &'a FileTally>) -> Progress {
    let (mut loaded, mut total, mut all_done) = (0.0, 0.0, true);
    for file in files {
        loaded += file.sent;
        total += file.size;
        all_done &= file.done;
    }
    // Empty files have no bytes to count; they are complete once stored.
    let progress = match (total > 0.0, all_done) {
        (true, _) => fraction(loaded, total),
        (false, true) => 1.0,
        (false, false) => 0.0,
    };
    Progress { loaded, total, progress }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_is_clamped_to_the_unit_interval() {
        assert_eq!(fraction(50.0, 200.0), 0.25);
        assert_eq!(fraction(300.0, 200.0), 1.0);
        assert_eq!(fraction(-1.0, 200.0), 0.0);
        assert_eq!(fraction(0.0, 0.0), 0.0);
        assert_eq!(fraction(5.0, 0.0), 1.0);
        assert_eq!(fraction(f64::NAN, 10.0), 0.0);
    }

    #[test]
    fn progress_sums_per_input_and_per_form() {
        // Input 0 has files of 100 and 300 bytes, input 1 one file of 600 bytes.
        let mut tally = Tally::new([(0, 100.0), (0, 300.0), (1, 600.0)]);
        assert_eq!(tally.form(), Progress { loaded: 0.0, total: 1000.0, progress: 0.0 });

        assert_eq!(tally.record(1, 150.0), 0.5);
        assert_eq!(tally.input(0), Progress { loaded: 150.0, total: 400.0, progress: 0.375 });
        assert_eq!(tally.input(1), Progress { loaded: 0.0, total: 600.0, progress: 0.0 });
        assert_eq!(tally.form(), Progress { loaded: 150.0, total: 1000.0, progress: 0.15 });
    }

    #[test]
    fn sent_bytes_stay_within_the_file_and_may_go_back() {
        let mut tally = Tally::new([(0, 100.0)]);
        assert_eq!(tally.record(0, 150.0), 1.0, "never more than the file");
        assert_eq!(tally.record(0, 40.0), 0.4, "a failed part takes its bytes back");
        assert_eq!(tally.form().loaded, 40.0);
        tally.finish(0);
        assert_eq!(tally.record(0, 10.0), 1.0, "a stored file stays complete");
        assert_eq!(tally.form(), Progress { loaded: 100.0, total: 100.0, progress: 1.0 });
    }

    #[test]
    fn finishing_every_file_reaches_one() {
        let mut tally = Tally::new([(0, 100.0), (1, 300.0)]);
        tally.record(0, 50.0);
        tally.finish(0);
        tally.finish(1);
        assert_eq!(tally.form(), Progress { loaded: 400.0, total: 400.0, progress: 1.0 });
        assert_eq!(tally.input(1).progress, 1.0);
    }

    #[test]
    fn empty_files_are_complete_once_stored() {
        let mut tally = Tally::new([(0, 0.0), (0, 0.0)]);
        assert_eq!(tally.input(0).progress, 0.0);
        tally.finish(0);
        assert_eq!(tally.input(0).progress, 0.0);
        tally.finish(1);
        assert_eq!(tally.input(0), Progress { loaded: 0.0, total: 0.0, progress: 1.0 });
    }
}
