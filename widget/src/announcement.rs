//! What the form's live region says, for people who cannot see the progress bar or the
//! validation bubble. Few and short: a polite region reads each text out in full.

use alloc::string::String;

use crate::text::{concat, push_decimal};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Announcement<'a> {
    /// The upload of this many files starts.
    Uploading {
        files: usize,
    },
    /// The form's files are this many quarters through, 1 to 3.
    Quarter(u8),
    Complete,
    /// The first failure's message.
    Failed(&'a str),
    /// The page stopped the upload.
    Stopped,
}

impl Announcement<'_> {
    /// Inlined: each caller says one kind of thing.
    #[inline(always)]
    pub fn text(&self) -> String {
        match *self {
            Announcement::Uploading { files: 1 } => "Uploading 1 file".into(),
            Announcement::Uploading { files } => {
                let mut text = String::from("Uploading ");
                push_decimal(&mut text, files as u64);
                text.push_str(" files");
                text
            }
            Announcement::Quarter(quarter) => {
                let mut text = String::new();
                push_decimal(&mut text, u64::from(quarter) * 25);
                text.push_str("% uploaded");
                text
            }
            Announcement::Complete => "Upload complete".into(),
            Announcement::Failed(message) => concat(&["Upload failed: ", message]),
            Announcement::Stopped => "Upload stopped".into(),
        }
    }
}

/// The quarter worth announcing when progress moves from `before` to `after` (fractions in
/// [0, 1]): 1, 2 or 3 when a quarter mark was passed; the end has its own announcement.
pub fn quarter_passed(before: f64, after: f64) -> Option<u8> {
    let quarter = |progress: f64| (progress * 4.0) as u8;
    let now = quarter(after);
    (now > quarter(before) && (1..=3).contains(&now)).then_some(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_read_naturally() {
        assert_eq!(Announcement::Uploading { files: 1 }.text(), "Uploading 1 file");
        assert_eq!(Announcement::Uploading { files: 12 }.text(), "Uploading 12 files");
        assert_eq!(Announcement::Quarter(2).text(), "50% uploaded");
        assert_eq!(Announcement::Complete.text(), "Upload complete");
        assert_eq!(Announcement::Failed("a.txt is too large").text(), "Upload failed: a.txt is too large");
        assert_eq!(Announcement::Stopped.text(), "Upload stopped");
    }

    #[test]
    fn only_quarter_marks_are_announced() {
        assert_eq!(quarter_passed(0.0, 0.2), None);
        assert_eq!(quarter_passed(0.2, 0.3), Some(1));
        assert_eq!(quarter_passed(0.3, 0.4), None);
        // A jump over several marks announces the last one only.
        assert_eq!(quarter_passed(0.1, 0.8), Some(3));
        assert_eq!(quarter_passed(0.8, 1.0), None, "the end is announced as complete");
        assert_eq!(quarter_passed(0.6, 0.5), None);
    }
}
