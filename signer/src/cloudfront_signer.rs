//! The CloudFront key (`AWS_CLOUDFRONT_KEY`, `AWS_CLOUDFRONT_KEY_ID`), read once at start-up,
//! and the RSA-SHA1 signature (PKCS#1 v1.5) that CloudFront requires of a signed URL. The RSA is
//! the `rsa` crate's; the policy and the URL are `cloudfront.rs`'s.

use std::fmt;

use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::{Signature, SigningKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{Keypair, SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::PrivateKey;
use sha1::Sha1;

use crate::cloudfront;

/// CloudFront takes 2048-bit public keys; a shorter key is weak as well.
pub const MIN_KEY_BITS: usize = 2048;

/// Signs download URLs for a CloudFront distribution with one key pair.
#[derive(Clone, PartialEq)]
pub struct CloudFrontSigner {
    key_pair_id: String,
    key: SigningKey<Sha1>,
}

impl CloudFrontSigner {
    /// The signer of `key_pair_id` with the PEM private key `pem`, PKCS#1 (`BEGIN RSA PRIVATE
    /// KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`); the error says why the key cannot sign, naming the
    /// setting.
    pub fn from_pem(key_pair_id: &str, pem: &str) -> Result<CloudFrontSigner, String> {
        if !cloudfront::is_key_pair_id(key_pair_id) {
            return Err(format!(
                "AWS_CLOUDFRONT_KEY_ID must be the id CloudFront gave the public key (letters and digits, \
                 such as K2JCJMDEHXQW5F), got {key_pair_id:?}"
            ));
        }
        let pem = pem.trim();
        if pem.contains("\\n") && !pem.contains('\n') {
            return Err("AWS_CLOUDFRONT_KEY holds the two characters \\n where its lines should break: \
                 give the PEM text with real line breaks"
                .to_owned());
        }
        let label =
            pem.strip_prefix("-----BEGIN ").and_then(|rest| rest.split_once("-----")).map(|(label, _)| label);
        let key = match label {
            Some("RSA PRIVATE KEY") => PrivateKey::from_pkcs1_pem(pem).map_err(|error| error.to_string()),
            Some("PRIVATE KEY") => PrivateKey::from_pkcs8_pem(pem).map_err(|error| error.to_string()),
            Some("ENCRYPTED PRIVATE KEY") => {
                return Err("AWS_CLOUDFRONT_KEY is encrypted: give the key without its passphrase \
                     (`openssl pkey -in key.pem -out plain.pem`)"
                    .to_owned())
            }
            Some(other) => {
                return Err(format!(
                    "AWS_CLOUDFRONT_KEY is a PEM {other:?}, not an RSA private key: CloudFront signs with \
                     RSA only (-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----)"
                ))
            }
            None => {
                return Err("AWS_CLOUDFRONT_KEY is not a PEM private key: it must start with \
                     -----BEGIN RSA PRIVATE KEY----- (PKCS#1) or -----BEGIN PRIVATE KEY----- (PKCS#8)"
                    .to_owned())
            }
        };
        let key = key.map_err(|error| {
            format!(
                "AWS_CLOUDFRONT_KEY cannot be read as an RSA private key ({error}): is it complete, and RSA?"
            )
        })?;
        let bits = key.size() * 8;
        if bits < MIN_KEY_BITS {
            return Err(format!(
                "AWS_CLOUDFRONT_KEY is a {bits}-bit RSA key: CloudFront takes {MIN_KEY_BITS}-bit keys"
            ));
        }
        Ok(CloudFrontSigner { key_pair_id: key_pair_id.to_owned(), key: SigningKey::new(key) })
    }

    pub fn key_pair_id(&self) -> &str {
        &self.key_pair_id
    }

    /// The RSA-SHA1 (PKCS#1 v1.5) signature of `message`.
    pub fn sign(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        let signature: Signature = self
            .key
            .try_sign(message)
            .map_err(|error| anyhow::anyhow!("sign with AWS_CLOUDFRONT_KEY: {error}"))?;
        Ok(signature.to_vec())
    }

    /// `url` signed with a canned policy that lets it be fetched until `expires` (Unix seconds).
    pub fn signed_url(&self, url: &str, expires: u64) -> anyhow::Result<String> {
        let signature = self.sign(cloudfront::canned_policy(url, expires).as_bytes())?;
        Ok(cloudfront::signed_url(url, expires, &signature, &self.key_pair_id))
    }

    /// Signs a probe and verifies the signature with the key's own public half: what `check
    /// --deploy` runs, so a key that cannot sign is found before a download URL needs it.
    pub fn self_check(&self) -> Result<(), String> {
        let probe = b"s3file check --deploy: AWS_CLOUDFRONT_KEY";
        let signature = self.sign(probe).map_err(|error| format!("{error:#}"))?;
        let signature = Signature::try_from(signature.as_slice())
            .map_err(|error| format!("AWS_CLOUDFRONT_KEY made a malformed signature ({error})"))?;
        self.key
            .verifying_key()
            .verify(probe, &signature)
            .map_err(|_| "AWS_CLOUDFRONT_KEY made a signature its own public key does not verify".to_owned())
    }
}

/// The key pair id only: the private key stays out of logs.
impl fmt::Debug for CloudFrontSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudFrontSigner")
            .field("key_pair_id", &self.key_pair_id)
            .field("key", &"** redacted **")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKCS1: &str = include_str!("../tests/fixtures/cloudfront/rsa2048.pkcs1.pem");
    const PKCS8: &str = include_str!("../tests/fixtures/cloudfront/rsa2048.pkcs8.pem");
    const EC: &str = include_str!("../tests/fixtures/cloudfront/ec-p256.pem");
    const EC_PKCS8: &str = include_str!("../tests/fixtures/cloudfront/ec-p256.pkcs8.pem");
    const RSA1024: &str = include_str!("../tests/fixtures/cloudfront/rsa1024.pkcs1.pem");

    fn error(pem: &str) -> String {
        CloudFrontSigner::from_pem("K2JCJMDEHXQW5F", pem).unwrap_err()
    }

    #[test]
    fn pkcs1_and_pkcs8_forms_of_one_key_sign_alike() {
        let pkcs1 = CloudFrontSigner::from_pem("K2JCJMDEHXQW5F", PKCS1).unwrap();
        let pkcs8 = CloudFrontSigner::from_pem("K2JCJMDEHXQW5F", PKCS8).unwrap();
        assert_eq!(pkcs1, pkcs8);
        // PKCS#1 v1.5 signatures are deterministic: blinding does not change them.
        let url = "https://cdn.example.com/a.txt";
        assert_eq!(
            pkcs1.signed_url(url, 1_800_000_000).unwrap(),
            pkcs8.signed_url(url, 1_800_000_000).unwrap()
        );
        assert_eq!(pkcs1.sign(b"x").unwrap().len(), 256);
        pkcs1.self_check().unwrap();
    }

    #[test]
    fn the_signature_verifies_over_the_canned_policy() {
        let signer = CloudFrontSigner::from_pem("K2JCJMDEHXQW5F", PKCS1).unwrap();
        let url = signer.signed_url("https://cdn.example.com/media/a%20b.txt", 1_800_000_000).unwrap();
        let (resource, query) = url.split_once('?').unwrap();
        assert_eq!(resource, "https://cdn.example.com/media/a%20b.txt");
        let parameters: Vec<(&str, &str)> =
            query.split('&').map(|pair| pair.split_once('=').unwrap()).collect();
        assert_eq!(parameters[0], ("Expires", "1800000000"));
        assert_eq!(parameters[2], ("Key-Pair-Id", "K2JCJMDEHXQW5F"));
        let standard: String = parameters[1]
            .1
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '=',
                '~' => '/',
                other => other,
            })
            .collect();
        use base64::Engine;
        let signature = base64::engine::general_purpose::STANDARD.decode(standard).unwrap();
        let signature = Signature::try_from(signature.as_slice()).unwrap();
        let policy = cloudfront::canned_policy(resource, 1_800_000_000);
        signer.key.verifying_key().verify(policy.as_bytes(), &signature).unwrap();
        let other_policy = cloudfront::canned_policy(resource, 1_800_000_001);
        assert!(signer.key.verifying_key().verify(other_policy.as_bytes(), &signature).is_err());
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        CloudFrontSigner::from_pem("K1", &format!("\n  {PKCS1}\n\n")).unwrap();
    }

    #[test]
    fn what_is_not_a_usable_rsa_key_is_refused_with_the_setting_named() {
        let truncated = &PKCS1[..PKCS1.len() / 2];
        let truncated_body = format!("{}\n-----END RSA PRIVATE KEY-----\n", &PKCS1[..PKCS1.len() / 2]);
        let one_bit_off = PKCS8.replacen("MII", "MIJ", 1);
        let cases = [
            ("garbage", "not a key at all".to_owned(), "not a PEM private key"),
            ("empty", String::new(), "not a PEM private key"),
            ("escaped line breaks", PKCS1.replace('\n', "\\n"), "\\n"),
            ("truncated", truncated.to_owned(), "cannot be read"),
            ("truncated body", truncated_body, "cannot be read"),
            ("corrupted", one_bit_off, "cannot be read"),
            ("EC key (SEC1)", EC.to_owned(), "not an RSA private key"),
            ("EC key (PKCS#8)", EC_PKCS8.to_owned(), "cannot be read"),
            ("1024-bit", RSA1024.to_owned(), "2048-bit"),
            (
                "public key",
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----".to_owned(),
                "not an RSA private key",
            ),
            (
                "encrypted",
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----".to_owned(),
                "encrypted",
            ),
        ];
        for (what, pem, expected) in cases {
            let message = error(&pem);
            assert!(message.contains("AWS_CLOUDFRONT_KEY"), "{what}: {message}");
            assert!(message.contains(expected), "{what}: {message}");
        }
    }

    #[test]
    fn the_key_pair_id_must_be_letters_and_digits() {
        let message = CloudFrontSigner::from_pem("K1&x=y", PKCS1).unwrap_err();
        assert!(message.contains("AWS_CLOUDFRONT_KEY_ID"), "{message}");
    }

    #[test]
    fn debug_leaves_the_key_out() {
        let signer = CloudFrontSigner::from_pem("K2JCJMDEHXQW5F", PKCS1).unwrap();
        let debug = format!("{signer:?}");
        assert!(debug.contains("K2JCJMDEHXQW5F") && debug.contains("redacted"), "{debug}");
        assert!(!debug.contains("BoxedUint") && debug.len() < 200, "{debug}");
    }
}
