//! What can stop an upload, worded for the person filling in the form: the message ends up in
//! the input's validation bubble and in the `s3file:error` event.
//!
//! Messages are put together by hand rather than with `format!` (see `text`).

use alloc::string::String;

use crate::text::{concat, push_decimal};

#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The sign request got no HTTP answer (offline, DNS, CORS).
    SignUnreachable { url: String },
    /// The signer answered with an error status; `reason` is its `{"error": …}` text.
    SignRefused { url: String, status: u16, reason: Option<String> },
    /// The signer answered `200` with something that does not follow the protocol.
    SignGarbled { url: String, problem: &'static str },
    /// The upload got no HTTP answer: offline, or the bucket's CORS policy does not allow POST.
    /// `url` is where the file went whole; a multipart upload's parts each have their own.
    UploadUnreachable { file: String, url: Option<String> },
    /// The store refused the upload; `reason` is its XML `<Message>`.
    UploadRefused { file: String, status: u16, reason: Option<String> },
    /// Reading the file for its checksum made no progress for the stall timeout (a hung network
    /// share, say); it was not sent.
    ChecksumStalled { file: String },
    /// The file changed on disk since it was chosen, or is gone: the browser will not read it,
    /// and none of it was sent.
    FileChanged { file: String },
    /// The file is larger than the page allows (`data-s3file-max-size`); it was not sent.
    TooLarge { file: String, size: u64, max: u64 },
}

impl Failure {
    /// The file concerned; `None` when signing failed, which concerns all files of the input.
    pub fn file_name(&self) -> Option<&str> {
        match self {
            Failure::SignUnreachable { .. } | Failure::SignRefused { .. } | Failure::SignGarbled { .. } => {
                None
            }
            Failure::UploadUnreachable { file, .. }
            | Failure::UploadRefused { file, .. }
            | Failure::ChecksumStalled { file }
            | Failure::FileChanged { file }
            | Failure::TooLarge { file, .. } => Some(file),
        }
    }

    pub fn message(&self) -> String {
        match self {
            Failure::SignUnreachable { url } => concat(&["could not reach the upload signer at ", url]),
            Failure::SignRefused { url, status, reason } => {
                let message = concat(&["the upload signer at ", url, " refused the files"]);
                with_status(message, *status, reason)
            }
            Failure::SignGarbled { url, problem } => {
                concat(&["the upload signer at ", url, " gave an unexpected answer: ", problem])
            }
            Failure::UploadUnreachable { file, url } => {
                let (at, url) = match url {
                    Some(url) => (" at ", url.as_str()),
                    None => ("", ""),
                };
                concat(&["could not upload ", file, ": the storage", at, url, " could not be reached"])
            }
            Failure::UploadRefused { file, status, reason } => {
                let message = concat(&["could not upload ", file, ": the storage refused it"]);
                with_status(message, *status, reason)
            }
            Failure::ChecksumStalled { file } => {
                concat(&["could not upload ", file, ": reading it for its checksum stalled"])
            }
            Failure::FileChanged { file } => concat(&[
                "could not upload ",
                file,
                ": it changed or is gone since it was chosen; choose it again",
            ]),
            Failure::TooLarge { file, size, max } => {
                let mut message = concat(&[file, " is "]);
                push_decimal(&mut message, *size);
                message.push_str(" bytes; files may be at most ");
                push_decimal(&mut message, *max);
                message.push_str(" bytes");
                message
            }
        }
    }
}

/// `message (HTTP status): reason`.
fn with_status(mut message: String, status: u16, reason: &Option<String>) -> String {
    message.push_str(" (HTTP ");
    push_decimal(&mut message, status.into());
    // `push_str`, not `push`: the widget has no other use of `String::push`, whose UTF-8
    // encoding of a `char` would come along.
    #[allow(clippy::single_char_add_str)]
    message.push_str(")");
    if let Some(reason) = reason {
        message.push_str(": ");
        message.push_str(reason);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_failed() {
        let sign_url = || "/s3file/sign".to_owned();
        let cases = [
            (
                Failure::SignUnreachable { url: sign_url() },
                "could not reach the upload signer at /s3file/sign",
            ),
            (
                Failure::SignRefused {
                    url: sign_url(),
                    status: 400,
                    reason: Some("unknown field: cv".into()),
                },
                "the upload signer at /s3file/sign refused the files (HTTP 400): unknown field: cv",
            ),
            (
                Failure::SignRefused { url: sign_url(), status: 502, reason: None },
                "the upload signer at /s3file/sign refused the files (HTTP 502)",
            ),
            (
                Failure::SignGarbled { url: sign_url(), problem: "a file has no url" },
                "the upload signer at /s3file/sign gave an unexpected answer: a file has no url",
            ),
            (
                Failure::UploadUnreachable {
                    file: "a.txt".into(),
                    url: Some("https://b.s3.amazonaws.com".into()),
                },
                "could not upload a.txt: the storage at https://b.s3.amazonaws.com could not be reached",
            ),
            (
                Failure::UploadUnreachable { file: "big.bin".into(), url: None },
                "could not upload big.bin: the storage could not be reached",
            ),
            (
                Failure::UploadRefused {
                    file: "a.txt".into(),
                    status: 403,
                    reason: Some("Policy expired".into()),
                },
                "could not upload a.txt: the storage refused it (HTTP 403): Policy expired",
            ),
            (
                Failure::ChecksumStalled { file: "stuck.bin".into() },
                "could not upload stuck.bin: reading it for its checksum stalled",
            ),
            (
                Failure::FileChanged { file: "notes.txt".into() },
                "could not upload notes.txt: it changed or is gone since it was chosen; choose it again",
            ),
            (
                Failure::TooLarge { file: "big.bin".into(), size: 2048, max: 1000 },
                "big.bin is 2048 bytes; files may be at most 1000 bytes",
            ),
        ];
        for (failure, message) in cases {
            assert_eq!(failure.message(), message);
        }
    }

    #[test]
    fn only_upload_failures_name_a_file() {
        let upload = Failure::UploadRefused { file: "a.txt".into(), status: 400, reason: None };
        assert_eq!(upload.file_name(), Some("a.txt"));
        assert_eq!(Failure::TooLarge { file: "b".into(), size: 2, max: 1 }.file_name(), Some("b"));
        assert_eq!(Failure::SignUnreachable { url: "/s".into() }.file_name(), None);
    }
}
