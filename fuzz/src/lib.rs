//! What the fuzz targets share: how an input splits into arguments, the fixed settings the
//! targets run with, and the rules a key's name must obey, restated here independently of
//! `keys.rs` so the two can be checked against each other.
//!
//! Inputs are lines of text, so the seeds in `corpus/<target>/` can be read and written by hand.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use time::OffsetDateTime;

/// The upload path the targets use, as `S3FILE_UPLOAD_PATH` would set it.
pub const UPLOAD_PATH: &str = "tmp/s3file";
/// A folder id as `keys::folder_id` makes them.
pub const FOLDER_ID: &str = "AAECAwQFBgcICQoLDA0ODw";
/// The folder signature secret of the targets; seeds carry tokens signed with it.
pub const SECRET: &[u8] = b"fuzz secret";
/// The time the targets verify at when the input does not say: 2026-11-22 10:00 UTC. The seeds'
/// tokens expire an hour later (1795345200).
pub const NOW: i64 = 1_795_341_600;

/// The latest time every target can add a day to and still format as a four-digit year.
const LATEST: i64 = 253_402_300_799 - 86_400;

/// `data` split at `\n`; the last line may be empty.
pub fn lines(data: &[u8]) -> Vec<&[u8]> {
    data.split(|b| *b == b'\n').collect()
}

/// A line as text, invalid UTF-8 replaced.
pub fn text(line: Option<&&[u8]>) -> String {
    line.map(|line| String::from_utf8_lossy(line).into_owned()).unwrap_or_default()
}

/// A line as a time in unix seconds, clamped to 1970..9999; [`NOW`] when it is not a number.
pub fn time(line: Option<&&[u8]>) -> OffsetDateTime {
    let seconds = text(line).trim().parse::<i64>().unwrap_or(NOW).clamp(1, LATEST);
    OffsetDateTime::from_unix_timestamp(seconds).expect("clamped into the representable range")
}

/// `name=value` lines as form fields (a line without `=` is a name with an empty value).
pub fn fields(lines: &[&[u8]]) -> Vec<(String, String)> {
    lines
        .iter()
        .map(|line| {
            let line = String::from_utf8_lossy(line);
            match line.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => (line.into_owned(), String::new()),
            }
        })
        .collect()
}

/// Panics unless `name` is a plain file name: what `keys::sanitize_file_name` may produce and
/// `keys::UploadKey` may accept (ARCHITECTURE.md, "a key is trusted only if…").
pub fn assert_plain_name(name: &str) {
    assert!(!name.is_empty(), "empty name");
    assert!(name.len() <= 255, "name of {} bytes", name.len());
    assert!(name != "." && name != "..", "name {name:?} is a path segment");
    assert_eq!(name.trim(), name, "name {name:?} has surrounding whitespace");
    for c in name.chars() {
        assert!(!c.is_control(), "name {name:?} has the control character {c:?}");
        assert!(!matches!(c, '/' | '\\' | '"'), "name {name:?} has {c:?}");
    }
}

/// Polls a future to completion on this thread. For futures over in-memory data only: they
/// never wait, so a future that stays pending is a bug and panics.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..10_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
    panic!("a future over in-memory data kept waiting");
}
