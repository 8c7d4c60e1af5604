//! The header that proves to an upstream application that a form came through the signer.
//!
//! In proxy mode the signer finalizes a submission and forwards it with the final keys. The
//! application must not take keys from anyone else, so the forwarded request carries
//! `X-S3File-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over the method, path and body,
//! keyed with `S3FILE_SECRET_KEY`. An application checks the MAC and that `t` is recent; the
//! format is simple enough to verify in any language (tests/proxy_app/app.py does it in Python).

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "x-s3file-signature";

/// How old a forwarded request may be when the application checks it.
pub const MAX_AGE_SECONDS: i64 = 300;

fn mac(secret: &[u8], timestamp: i64, method: &str, path_and_query: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("s3file-forward-v1\n{timestamp}\n{method}\n{path_and_query}\n").as_bytes());
    mac.update(body);
    mac
}

pub fn sign(secret: &[u8], timestamp: i64, method: &str, path_and_query: &str, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, method, path_and_query, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// What an application does with the header.
pub fn verify(
    secret: &[u8],
    header: &str,
    now: i64,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> Result<(), &'static str> {
    let (timestamp, signature) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .ok_or("malformed signature header")?;
    let timestamp: i64 = timestamp.parse().map_err(|_| "malformed timestamp")?;
    let signature = hex::decode(signature).map_err(|_| "malformed signature")?;
    mac(secret, timestamp, method, path_and_query, body)
        .verify_slice(&signature)
        .map_err(|_| "signature does not match")?;
    if (now - timestamp).abs() > MAX_AGE_SECONDS {
        return Err("signature too old");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_what_it_signed_and_nothing_else() {
        let header = sign(b"secret", 1_000, "POST", "/profile?x=1", b"name=Ada");
        assert_eq!(verify(b"secret", &header, 1_010, "POST", "/profile?x=1", b"name=Ada"), Ok(()));
        assert!(verify(b"other", &header, 1_010, "POST", "/profile?x=1", b"name=Ada").is_err());
        assert!(verify(b"secret", &header, 1_010, "POST", "/admin", b"name=Ada").is_err());
        assert!(verify(b"secret", &header, 1_010, "POST", "/profile?x=1", b"name=Eve").is_err());
        assert_eq!(
            verify(b"secret", &header, 1_000 + MAX_AGE_SECONDS + 1, "POST", "/profile?x=1", b"name=Ada"),
            Err("signature too old")
        );
        assert!(verify(b"secret", "t=1000", 1_000, "POST", "/", b"").is_err());
    }

    /// The format other languages implement: keep this vector stable.
    #[test]
    fn known_vector() {
        assert_eq!(
            sign(b"secret", 1_700_000_000, "POST", "/upload", b"a=1"),
            format!("t=1700000000,v1={}", {
                let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
                mac.update(b"s3file-forward-v1\n1700000000\nPOST\n/upload\na=1");
                hex::encode(mac.finalize().into_bytes())
            })
        );
    }
}
