//! What a second submit may keep from a failed one.
//!
//! Upload instructions (a POST policy per file) and the keys of the files they stored are kept
//! per input, so a retry sends only the files that failed, into the same folder, under the same
//! folder signature. They are kept only while the policy lets uploads start, and never for a
//! multipart upload: the next attempt signs again and resumes it, learning which parts S3 holds.

/// A retry reuses instructions only if they stay valid at least this much longer: an upload
/// must reach the store before its policy expires.
pub const MARGIN_MS: f64 = 60_000.0;

/// Whether instructions that expire at `expires_at_ms` (Unix milliseconds; `None` when their
/// policy does not say), with a multipart upload among them or not, can serve a retry at
/// `now_ms`. Instructions of unknown expiry are tried: the store has the last word, and a
/// refusal makes the next retry sign afresh.
pub fn reusable(expires_at_ms: Option<f64>, multipart: bool, now_ms: f64) -> bool {
    !multipart && expires_at_ms.is_none_or(|expires_at| expires_at - MARGIN_MS > now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_are_reused_until_a_minute_before_they_expire() {
        let now = 1_767_225_600_000.0;
        assert!(reusable(Some(now + 3_600_000.0), false, now));
        assert!(reusable(Some(now + 61_000.0), false, now));
        assert!(!reusable(Some(now + 59_000.0), false, now));
        assert!(!reusable(Some(now - 1.0), false, now));
    }

    #[test]
    fn instructions_of_unknown_expiry_are_tried() {
        assert!(reusable(None, false, 0.0));
    }

    #[test]
    fn instructions_with_a_multipart_upload_are_signed_again() {
        assert!(!reusable(None, true, 0.0));
        assert!(!reusable(Some(3_600_000.0), true, 0.0));
    }
}
