//! When a failed transfer is tried again, and whether it is tried at all.
//!
//! Network errors, `5xx`, `429`, S3's `RequestTimeout` and `BadDigest` (the bytes did not match
//! their checksum: they changed on the way) and expired presigned URLs are worth another try;
//! other refusals are final. Tries wait exponentially longer, with "full jitter"
//! (a uniformly random delay up to the exponential bound), so that many browsers failing
//! together do not come back together.

/// What a failed transfer calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Try again after a delay.
    Retry,
    /// The URL's signature expired: get a fresh URL, then try again.
    Resign,
    /// Give up on the file: the store refused it for good.
    Fatal,
}

/// First delay bound, in milliseconds.
pub const BASE_MS: f64 = 500.0;
/// No delay is longer than this.
pub const CAP_MS: f64 = 20_000.0;

/// Classifies a failed transfer by its HTTP status (0 when there was no answer) and S3's error
/// `<Code>` and `<Message>`, if the body had them.
pub fn verdict(status: u16, code: Option<&str>, message: Option<&str>) -> Verdict {
    match (status, code) {
        (0, _) | (429, _) | (500..=599, _) => Verdict::Retry,
        (400, Some("RequestTimeout" | "BadDigest")) => Verdict::Retry,
        (403, Some("ExpiredToken" | "RequestExpired" | "TokenRefreshRequired")) => Verdict::Resign,
        // S3 says `AccessDenied` with "Request has expired": only the message tells.
        (403, _)
            if message
                .is_some_and(|message| message.as_bytes().windows(7).any(|word| word == b"expired")) =>
        {
            Verdict::Resign
        }
        _ => Verdict::Fatal,
    }
}

/// The delay before try number `tries + 1` (after `tries` failures, at least one), given a
/// uniformly random `unit` in [0, 1).
pub fn delay_ms(tries: u32, unit: f64) -> f64 {
    let exponent = tries.saturating_sub(1).min(16);
    let bound = (BASE_MS * f64::from(1u32 << exponent)).min(CAP_MS);
    // Not `clamp`, whose assertion would bring panic formatting into the wasm.
    #[allow(clippy::manual_clamp)]
    let unit = unit.max(0.0).min(1.0);
    bound * unit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_are_retried_and_refusals_are_not() {
        for status in [0, 429, 500, 502, 503, 504] {
            assert_eq!(verdict(status, None, None), Verdict::Retry, "{status}");
        }
        assert_eq!(verdict(400, Some("RequestTimeout"), None), Verdict::Retry);
        assert_eq!(verdict(400, Some("BadDigest"), None), Verdict::Retry);
        assert_eq!(verdict(403, Some("RequestExpired"), None), Verdict::Resign);
        assert_eq!(verdict(403, Some("AccessDenied"), Some("Request has expired")), Verdict::Resign);
        assert_eq!(verdict(403, Some("AccessDenied"), Some("Access Denied")), Verdict::Fatal);
        for (status, code) in [
            (400, Some("EntityTooLarge")),
            (400, Some("InvalidDigest")),
            (403, Some("SignatureDoesNotMatch")),
            (404, None),
        ] {
            assert_eq!(verdict(status, code, None), Verdict::Fatal, "{status} {code:?}");
        }
    }

    #[test]
    fn delays_grow_exponentially_up_to_the_cap() {
        assert_eq!(delay_ms(1, 0.999_999), BASE_MS * 0.999_999);
        assert_eq!(delay_ms(2, 0.5), BASE_MS);
        assert_eq!(delay_ms(4, 1.0 - f64::EPSILON), 8.0 * BASE_MS * (1.0 - f64::EPSILON));
        assert_eq!(delay_ms(30, 0.5), CAP_MS / 2.0);
        assert_eq!(delay_ms(0, 0.5), BASE_MS / 2.0);
    }

    #[test]
    fn jitter_spreads_delays_over_the_whole_bound() {
        assert_eq!(delay_ms(3, 0.0), 0.0);
        assert_eq!(delay_ms(3, 2.0), 4.0 * BASE_MS, "out-of-range randomness is clamped");
    }
}
