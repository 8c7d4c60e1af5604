//! The header that proves to an upstream application that a form came through the signer.
//!
//! In proxy mode the signer finalizes a submission and forwards it with the final keys. The
//! application must not take keys from anyone else, so the forwarded request carries
//!
//! ```text
//! X-S3File-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256>
//! X-S3File-Content-SHA256: <hex SHA-256 of the forwarded body>
//! ```
//!
//! The MAC is keyed with `S3FILE_SECRET_KEY` and taken over
//!
//! ```text
//! s3file-forward-v2\n<t>\n<METHOD>\n<path?query>\n<hex SHA-256 of the body>
//! ```
//!
//! with the path and query exactly as the application receives them, and the digest of exactly
//! the body bytes forwarded. The MAC is what counts: `X-S3File-Content-SHA256` only lets an
//! application that reads the body in pieces compare what it read before parsing anything;
//! [`verify`] computes the digest itself.
//!
//! A signature is accepted from [`MAX_AGE_SECONDS`] (60) in the past to [`MAX_FUTURE_SECONDS`]
//! (5) in the future of the application's clock. The signer signs just before it sends a small
//! form to an application next to it, so a genuine request is seconds old when it is checked:
//! 60 s leaves room for a busy application while a captured request stays replayable only
//! briefly (an application that must never accept one twice remembers the signatures it saw for
//! 65 s). Signer and application share a host or a network whose clocks NTP keeps well within a
//! second; 5 s ahead covers that skew, and a timestamp further ahead means a clock is wrong,
//! which should fail loudly rather than widen the window.
//!
//! The header's grammar is strict, the same in every language: `t=` a decimal without sign or
//! leading zero (at most 12 digits), `,v2=` and 64 lower-case hex digits, nothing else. A `vN=`
//! other than `v2=` is refused as an unsupported version (`v1` signed the raw body and had a
//! 300 s window). [`verify`] is the reference implementation; examples/verify/ has the same
//! check in Python and Node, and examples/verify/vector.json the known answer and the cases all
//! three pass.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The signature header, as the http crate spells names.
pub const HEADER: &str = "x-s3file-signature";
/// The hex SHA-256 of the forwarded body, for the application to compare with what it read.
pub const CONTENT_SHA256_HEADER: &str = "x-s3file-content-sha256";
/// Every header the signer writes starts with this; a client never sends one (`proxy.rs`).
pub const HEADER_PREFIX: &str = "x-s3file-";

/// How old a forwarded request may be when the application checks it.
pub const MAX_AGE_SECONDS: i64 = 60;
/// How far ahead of the application's clock a signature may be (clock skew).
pub const MAX_FUTURE_SECONDS: i64 = 5;

/// Names what is signed, so that no other HMAC under the same secret (folder signatures,
/// multipart tickets) can pass for this one, nor a later version's for this version's.
const CONTEXT: &str = "s3file-forward-v2";
/// The largest timestamp accepted: 12 digits, so that every language holds it exactly (a
/// JavaScript number is exact to 2^53).
const MAX_TIMESTAMP_DIGITS: usize = 12;

/// Why a forwarded request was not accepted. The messages are the same in every example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// The header is missing parts, or has more, or other characters.
    Malformed,
    /// `vN=` names a version other than 2.
    UnsupportedVersion,
    /// The MAC does not cover this secret, time, method, path and query, and body.
    Mismatch,
    /// Genuine, but older than [`MAX_AGE_SECONDS`].
    Expired,
    /// Genuine, but more than [`MAX_FUTURE_SECONDS`] ahead.
    FromTheFuture,
}

impl VerifyError {
    /// A stable name of the case, as the examples' `code`.
    pub fn code(self) -> &'static str {
        match self {
            VerifyError::Malformed => "malformed",
            VerifyError::UnsupportedVersion => "unsupported_version",
            VerifyError::Mismatch => "mismatch",
            VerifyError::Expired => "expired",
            VerifyError::FromTheFuture => "future",
        }
    }
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VerifyError::Malformed => {
                "malformed X-S3File-Signature: expected t=<unix seconds>,v2=<64 lower-case hex digits>"
            }
            VerifyError::UnsupportedVersion => "unsupported X-S3File-Signature version: expected v2",
            VerifyError::Mismatch => "X-S3File-Signature does not match this request",
            VerifyError::Expired => "X-S3File-Signature expired: signed more than 60 seconds ago",
            VerifyError::FromTheFuture => {
                "X-S3File-Signature is from the future: signed more than 5 seconds ahead of this clock"
            }
        })
    }
}

impl std::error::Error for VerifyError {}

/// The value of [`CONTENT_SHA256_HEADER`]: SHA-256 of exactly these bytes, lower-case hex.
pub fn content_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

fn mac(secret: &[u8], timestamp: i64, method: &str, path_and_query: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    let digest = content_sha256(body);
    mac.update(format!("{CONTEXT}\n{timestamp}\n{method}\n{path_and_query}\n{digest}").as_bytes());
    mac
}

/// The [`HEADER`] value for a request the signer forwards at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, method: &str, path_and_query: &str, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, method, path_and_query, body).finalize().into_bytes();
    format!("t={timestamp},v2={}", hex::encode(digest))
}

/// What an application does with the header: checks that `header` is the signer's, with
/// `secret`, for exactly this method, path and query (as the application received them) and
/// body, at most [`MAX_AGE_SECONDS`] old and [`MAX_FUTURE_SECONDS`] ahead of `now` (unix
/// seconds). The MAC is compared in constant time and checked before the time, so that
/// [`VerifyError::Expired`] and [`VerifyError::FromTheFuture`] speak of genuine signatures only.
///
/// ```
/// use s3file_signer::forward_signature::{verify, VerifyError};
///
/// // The known answer of examples/verify/vector.json.
/// let secret = b"s3file-known-answer-secret";
/// let header = "t=1700000000,v2=a680ec2e35a7826e95747b4747d372d6dabb70960a99c6d95d9415631341c92d";
/// let body = b"name=Ada&avatar=media%2Fme.png";
/// let check = |now, body: &[u8]| verify(secret, header, now, "POST", "/profile?next=%2Fhome", body);
/// assert_eq!(check(1_700_000_030, body), Ok(()));
/// assert_eq!(check(1_700_000_030, b"name=Eve&avatar=media%2Fme.png"), Err(VerifyError::Mismatch));
/// assert_eq!(check(1_700_000_061, body), Err(VerifyError::Expired));
/// assert_eq!(check(1_699_999_994, body), Err(VerifyError::FromTheFuture));
/// ```
pub fn verify(
    secret: &[u8],
    header: &str,
    now: i64,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> Result<(), VerifyError> {
    let (timestamp, signature) = parse(header)?;
    mac(secret, timestamp, method, path_and_query, body)
        .verify_slice(&signature)
        .map_err(|_| VerifyError::Mismatch)?;
    let age = now.saturating_sub(timestamp);
    if age > MAX_AGE_SECONDS {
        return Err(VerifyError::Expired);
    }
    if age < -MAX_FUTURE_SECONDS {
        return Err(VerifyError::FromTheFuture);
    }
    Ok(())
}

/// `t=<timestamp>,v<version>=<signature>`, by the grammar in the module's documentation.
fn parse(header: &str) -> Result<(i64, [u8; 32]), VerifyError> {
    let (timestamp, rest) =
        header.strip_prefix("t=").and_then(|rest| rest.split_once(",v")).ok_or(VerifyError::Malformed)?;
    let (version, signature) = rest.split_once('=').ok_or(VerifyError::Malformed)?;
    // The version is judged only once the header has the shape of one, as the examples'
    // regular expression `^t=([^,]*),v([0-9]+)=(.*)$` does.
    if timestamp.contains(',') || version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::Malformed);
    }
    if version != "2" {
        return Err(VerifyError::UnsupportedVersion);
    }
    let canonical = timestamp == "0"
        || (!timestamp.is_empty()
            && timestamp.len() <= MAX_TIMESTAMP_DIGITS
            && !timestamp.starts_with('0')
            && timestamp.bytes().all(|b| b.is_ascii_digit()));
    if !canonical {
        return Err(VerifyError::Malformed);
    }
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if signature.len() != 64 || !signature.bytes().all(lower_hex) {
        return Err(VerifyError::Malformed);
    }
    let mut bytes = [0; 32];
    hex::decode_to_slice(signature, &mut bytes).map_err(|_| VerifyError::Malformed)?;
    Ok((timestamp.parse().map_err(|_| VerifyError::Malformed)?, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector and cases every verification example runs (examples/verify/).
    const VECTOR: &str = include_str!("../../examples/verify/vector.json");

    fn vector() -> serde_json::Value {
        serde_json::from_str(VECTOR).unwrap()
    }

    #[test]
    fn known_answer() {
        let vector = vector();
        let text = |name: &str| vector[name].as_str().unwrap().to_owned();
        let header = sign(
            text("secret").as_bytes(),
            vector["timestamp"].as_i64().unwrap(),
            &text("method"),
            &text("path"),
            text("body").as_bytes(),
        );
        assert_eq!(header, text("header"));
        assert_eq!(
            header,
            "t=1700000000,v2=a680ec2e35a7826e95747b4747d372d6dabb70960a99c6d95d9415631341c92d"
        );
    }

    #[test]
    fn shared_cases() {
        let vector = vector();
        let cases = vector["cases"].as_array().unwrap();
        assert!(cases.len() > 20);
        for case in cases {
            let field = |name: &str| case[name].as_str().or(vector[name].as_str()).unwrap().to_owned();
            let result = verify(
                field("secret").as_bytes(),
                &field("header"),
                case["now"].as_i64().unwrap(),
                &field("method"),
                &field("path"),
                field("body").as_bytes(),
            );
            assert_eq!(result.map_err(VerifyError::code).err(), case["error"].as_str(), "{}", case["name"]);
            let expected =
                case["error"].as_str().map(|code| vector["messages"][code].as_str().unwrap().to_owned());
            assert_eq!(result.map_err(|error| error.to_string()).err(), expected, "{}", case["name"]);
        }
    }

    #[test]
    fn window_is_60_seconds_back_and_5_ahead() {
        let header = sign(b"secret", 1_000, "POST", "/profile?x=1", b"name=Ada");
        let at = |now: i64| {
            verify(b"secret", &header, now, "POST", "/profile?x=1", b"name=Ada").map_err(|e| e.to_string())
        };
        assert_eq!(at(1_000), Ok(()));
        assert_eq!(at(1_060), Ok(()));
        assert!(at(1_061).unwrap_err().contains("expired"));
        assert!(at(i64::MAX).unwrap_err().contains("expired"));
        assert_eq!(at(995), Ok(()));
        assert!(at(994).unwrap_err().contains("future"));
        assert!(at(i64::MIN).unwrap_err().contains("future"));
    }

    #[test]
    fn body_digest_is_hex_sha256_of_the_bytes() {
        let vector = vector();
        assert_eq!(
            content_sha256(vector["body"].as_str().unwrap().as_bytes()),
            vector["body_sha256"].as_str().unwrap()
        );
        assert_eq!(content_sha256(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
