//! The SigV4 pieces a POST policy needs: the credential scope, the derived signing key and the
//! signature of a string to sign.
//!
//! Key derivation and the final HMAC come from `aws-sigv4`; this module adds the scope strings
//! and a cache, because a signer under load would otherwise run four HMACs per signature just to
//! re-derive a key that changes once a day.

use std::fmt;
use std::sync::Mutex;
use std::time::SystemTime;

use time::OffsetDateTime;
use zeroize::Zeroizing;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
pub const SERVICE: &str = "s3";

/// AWS credentials as the signer uses them.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    pub session_token: Option<String>,
}

impl Credentials {
    pub fn new(access_key_id: &str, secret_access_key: &str, session_token: Option<&str>) -> Self {
        Credentials {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: Zeroizing::new(secret_access_key.to_owned()),
            session_token: session_token.map(str::to_owned),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &self.session_token.as_ref().map(|_| "** redacted **"))
            .finish()
    }
}

/// `20151229T000000Z`, the `x-amz-date` format.
pub fn amz_date(time: OffsetDateTime) -> String {
    let time = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// `20151229`, the date part of a credential scope.
pub fn scope_date(time: OffsetDateTime) -> String {
    amz_date(time)[..8].to_owned()
}

/// `AKIA…/20151229/us-east-1/s3/aws4_request`, the `x-amz-credential` value.
pub fn credential(access_key_id: &str, time: OffsetDateTime, region: &str) -> String {
    format!("{access_key_id}/{}/{region}/{SERVICE}/aws4_request", scope_date(time))
}

/// Derived signing keys, kept per (secret, day, region, service).
///
/// A handful of entries is plenty: a signer uses one region and rotates credentials rarely; the
/// small bound keeps a stream of distinct secrets from growing the cache.
#[derive(Default)]
pub struct SigningKeyCache {
    entries: Mutex<Vec<CachedKey>>,
}

struct CachedKey {
    secret: Zeroizing<String>,
    date: String,
    region: String,
    service: String,
    key: Zeroizing<Vec<u8>>,
}

const CACHE_CAPACITY: usize = 4;

impl SigningKeyCache {
    /// The signing key for `secret` on the UTC day of `time`.
    pub fn signing_key(
        &self,
        secret: &str,
        time: OffsetDateTime,
        region: &str,
        service: &str,
    ) -> Zeroizing<Vec<u8>> {
        let date = scope_date(time);
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let found = entries.iter().find(|entry| {
            entry.date == date
                && entry.region == region
                && entry.service == service
                && entry.secret.as_str() == secret
        });
        if let Some(entry) = found {
            return entry.key.clone();
        }
        let key = derive_signing_key(secret, time, region, service);
        if entries.len() == CACHE_CAPACITY {
            entries.remove(0);
        }
        entries.push(CachedKey {
            secret: Zeroizing::new(secret.to_owned()),
            date,
            region: region.to_owned(),
            service: service.to_owned(),
            key: key.clone(),
        });
        key
    }
}

pub fn derive_signing_key(
    secret: &str,
    time: OffsetDateTime,
    region: &str,
    service: &str,
) -> Zeroizing<Vec<u8>> {
    let key = aws_sigv4::sign::v4::generate_signing_key(secret, SystemTime::from(time), region, service);
    Zeroizing::new(key.as_ref().to_vec())
}

/// Hex HMAC-SHA256 of `string_to_sign` with a derived signing key.
pub fn signature(signing_key: &[u8], string_to_sign: &str) -> String {
    aws_sigv4::sign::v4::calculate_signature(signing_key, string_to_sign.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn formats_dates_and_scope() {
        let time = datetime!(2015-12-29 0:00 UTC);
        assert_eq!(amz_date(time), "20151229T000000Z");
        assert_eq!(scope_date(time), "20151229");
        assert_eq!(
            credential("AKIAIOSFODNN7EXAMPLE", time, "us-east-1"),
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"
        );
    }

    #[test]
    fn dates_are_utc_whatever_the_offset() {
        let time = datetime!(2015-12-29 23:30 -2);
        assert_eq!(amz_date(time), "20151230T013000Z");
    }

    #[test]
    fn cache_returns_the_derived_key_and_rederives_on_a_new_day() {
        let cache = SigningKeyCache::default();
        let monday = datetime!(2015-12-28 10:00 UTC);
        let tuesday = datetime!(2015-12-29 10:00 UTC);
        let first = cache.signing_key(SECRET, monday, "us-east-1", "s3");
        assert_eq!(*first, *derive_signing_key(SECRET, monday, "us-east-1", "s3"));
        assert_eq!(*cache.signing_key(SECRET, monday, "us-east-1", "s3"), *first);
        assert_ne!(*cache.signing_key(SECRET, tuesday, "us-east-1", "s3"), *first);
        assert_ne!(*cache.signing_key("other", monday, "us-east-1", "s3"), *first);
    }

    #[test]
    fn cache_stays_bounded() {
        let cache = SigningKeyCache::default();
        let day = datetime!(2015-12-28 10:00 UTC);
        for n in 0..10 {
            cache.signing_key(&format!("secret-{n}"), day, "us-east-1", "s3");
        }
        assert_eq!(cache.entries.lock().unwrap().len(), CACHE_CAPACITY);
    }

    #[test]
    fn debug_leaves_secrets_out() {
        let credentials = Credentials::new("AKID", "very-secret", Some("token-value"));
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKID"));
        assert!(!shown.contains("very-secret"));
        assert!(!shown.contains("token-value"));
    }
}
