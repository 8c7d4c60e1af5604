//! CloudFront signed URLs with a canned policy, as django-storages makes them through botocore's
//! `CloudFrontSigner` when `AWS_CLOUDFRONT_KEY` and `AWS_CLOUDFRONT_KEY_ID` are set: the policy a
//! signature covers, CloudFront's own base64, and the URL's query.
//!
//! The RSA signature itself is `cloudfront_signer.rs`'s: this module only says what is signed
//! and how the result is written, so it needs no key and no clock (the expiry is an argument).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The canned policy of `url` valid until `expires` (Unix seconds): the statement CloudFront
/// rebuilds from the URL and its `Expires` parameter to check the signature, so it must match
/// byte for byte what CloudFront (and botocore) write: no spaces, the resource as given.
pub fn canned_policy(url: &str, expires: u64) -> String {
    // The resource is a JSON string; download URLs are percent-encoded, so escaping changes
    // nothing in practice, but a stray quote could never break out of the string.
    let resource = serde_json::Value::String(url.to_owned());
    format!(
        r#"{{"Statement":[{{"Resource":{resource},"Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}"#
    )
}

/// CloudFront's URL-safe base64: standard base64, padding kept, with `+`, `=` and `/`, which
/// have meanings in a query string, replaced by `-`, `_` and `~`.
pub fn url_safe_base64(bytes: &[u8]) -> String {
    STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '=' => '_',
            '/' => '~',
            other => other,
        })
        .collect()
}

/// `url` with the canned policy's query parameters added: `Expires`, the `signature` of
/// [`canned_policy`] and the key pair's id, after any query `url` already has.
pub fn signed_url(url: &str, expires: u64, signature: &[u8], key_pair_id: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}Expires={expires}&Signature={}&Key-Pair-Id={key_pair_id}",
        url_safe_base64(signature)
    )
}

/// Whether `id` can be a CloudFront key pair or public key id, which are upper-case letters and
/// digits (`K2JCJMDEHXQW5F`, `APKAEIBAERJR2EXAMPLE`): the id goes into the URL as it is.
pub fn is_key_pair_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canned_policy_is_compact_json_with_the_resource_and_expiry() {
        let policy = canned_policy("https://d111111abcdef8.cloudfront.net/media/a%20b.png", 1_767_225_600);
        assert_eq!(
            policy,
            r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/media/a%20b.png","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&policy).unwrap();
        assert_eq!(parsed["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"], 1_767_225_600);
    }

    #[test]
    fn a_quote_in_the_resource_stays_inside_its_string() {
        let policy = canned_policy(r#"https://cdn.example/a"b\c"#, 1);
        let parsed: serde_json::Value = serde_json::from_str(&policy).unwrap();
        assert_eq!(parsed["Statement"][0]["Resource"], r#"https://cdn.example/a"b\c"#);
    }

    #[test]
    fn base64_replaces_the_characters_a_query_would_misread() {
        // 0xfb 0xff 0xbf encodes as "+/+/" in standard base64; one byte more needs padding.
        assert_eq!(STANDARD.encode([0xfb, 0xff, 0xbf]), "+/+/");
        assert_eq!(url_safe_base64(&[0xfb, 0xff, 0xbf]), "-~-~");
        assert_eq!(STANDARD.encode([0xfb]), "+w==");
        assert_eq!(url_safe_base64(&[0xfb]), "-w__");
        assert_eq!(url_safe_base64(b"hello"), "aGVsbG8_");
    }

    #[test]
    fn the_signed_url_carries_expires_signature_and_key_pair_id_in_that_order() {
        assert_eq!(
            signed_url("https://cdn.example.com/a.txt", 42, &[0xfb], "K2JCJMDEHXQW5F"),
            "https://cdn.example.com/a.txt?Expires=42&Signature=-w__&Key-Pair-Id=K2JCJMDEHXQW5F"
        );
        assert_eq!(
            signed_url("https://cdn.example.com/a.txt?v=1", 42, &[0xfb], "K1"),
            "https://cdn.example.com/a.txt?v=1&Expires=42&Signature=-w__&Key-Pair-Id=K1"
        );
    }

    #[test]
    fn key_pair_ids_are_letters_and_digits() {
        assert!(is_key_pair_id("K2JCJMDEHXQW5F"));
        assert!(is_key_pair_id("APKAEIBAERJR2EXAMPLE"));
        for bad in ["", "K2 J", "K2&Signature=x", "K2\n", "ключ"] {
            assert!(!is_key_pair_id(bad), "{bad:?}");
        }
    }
}
