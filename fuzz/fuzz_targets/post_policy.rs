//! POST policies: decoding any text, checking any form against any policy, and the signer's own
//! policies accepting their own forms.
//!
//! Input lines:
//! 1. a policy: passed to `PolicyDocument::decode` as it is, and also base64-encoded by the
//!    target, so the line can be a JSON document too;
//! 2. the bucket;
//! 3. the file's length in bytes;
//! 4. the time, in unix seconds;
//! 5. and on: form fields, `name=value`.
//!
//! For the round trip, the signer issues a policy for the bucket of line 2, the key and
//! Content-Type of the first field (`key=type`), the length of line 3 and the `x-amz-meta-*`
//! fields among the others, at the time of line 4; it must decode and accept its own form, and
//! refuse the same form with any other key. Its gzip sibling (`PostPolicy::gzipped`) must accept
//! the same form with `Content-Encoding: gzip` and fewer bytes, and nothing else.
#![no_main]

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use s3file_fuzz::{fields, lines, text, time};
use s3file_signer::gzip::ContentEncoding;
use s3file_signer::post_policy::{sign_post, PolicyDocument, PolicyViolation, PostPolicy};
use s3file_signer::sigv4::{Credentials, SigningKeyCache};
use s3file_signer::upload_checksum::UploadChecksum;
use time::{Duration, OffsetDateTime};

fuzz_target!(|data: &[u8]| {
    let lines = lines(data);
    let policy = lines.first().copied().unwrap_or_default();
    let bucket = text(lines.get(1));
    let length = text(lines.get(2)).trim().parse::<u64>().unwrap_or(0);
    let now = time(lines.get(3));
    let form = fields(lines.get(4..).unwrap_or_default());

    let as_text = std::str::from_utf8(policy).ok().map(PolicyDocument::decode);
    let as_json = Some(PolicyDocument::decode(&BASE64.encode(policy)));
    for document in [as_text, as_json].into_iter().flatten() {
        match document {
            Ok(document) => check_consistently(&document, &bucket, &form, length, now),
            Err(violation) => assert!(matches!(violation, PolicyViolation::Malformed(_)), "{violation:?}"),
        }
    }

    if let Some(((key, content_type), rest)) = form.split_first() {
        issued_policy_accepts_its_own_form(&bucket, key, content_type, rest, length, now);
    }
});

/// `check` is `check_fields` then `check_length`, expiry always wins, and an accepted length is
/// within the policy's maximum.
fn check_consistently(
    document: &PolicyDocument,
    bucket: &str,
    form: &[(String, String)],
    length: u64,
    now: OffsetDateTime,
) {
    let whole = document.check(bucket, form, length, now);
    let parts = document.check_fields(bucket, form, now).and_then(|()| document.check_length(length));
    assert_eq!(whole, parts);
    if now >= document.expiration {
        assert_eq!(whole, Err(PolicyViolation::Expired));
    }
    if whole.is_ok() {
        if let Some(max) = document.max_content_length() {
            assert!(length <= max, "accepted {length} bytes over a maximum of {max}");
        }
    }
    if let Err(violation) = whole {
        let _ = violation.to_string();
    }
}

fn issued_policy_accepts_its_own_form(
    bucket: &str,
    key: &str,
    content_type: &str,
    rest: &[(String, String)],
    length: u64,
    now: OffsetDateTime,
) {
    // Extra fields as object_parameters makes them: metadata, each name once.
    let mut extra: Vec<(String, String)> = Vec::new();
    for (name, value) in rest {
        let is_metadata = name.len() > "x-amz-meta-".len()
            && name.get(..11).is_some_and(|start| start.eq_ignore_ascii_case("x-amz-meta-"));
        if is_metadata && !extra.iter().any(|(seen, _)| seen.eq_ignore_ascii_case(name)) {
            extra.push((name.clone(), value.clone()));
        }
    }
    let expires_at = now + Duration::hours(1);
    // Either field a policy may require for the checksum (S3FILE_CHECKSUM md5 or crc32).
    let checksum = if length % 2 == 0 { UploadChecksum::Md5 } else { UploadChecksum::Crc32 };
    let checksum_field = checksum.post_field().expect("md5 and crc32 have a POST field");
    let policy = PostPolicy {
        bucket,
        key,
        content_type,
        content_length: length..=length,
        expires_at,
        extra_fields: &extra,
        checksum_field: Some(checksum_field),
        content_encoding: ContentEncoding::AsIs,
    };
    let credentials =
        Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None);
    let issued = sign_post(&policy, &credentials, "us-east-1", now, &SigningKeyCache::default());
    let encoded = &issued.iter().find(|(name, _)| name == "policy").expect("a policy field").1;
    let document = PolicyDocument::decode(encoded).expect("the signer's own policy decodes");
    assert_eq!(document.expiration, expires_at);
    assert_eq!(document.max_content_length(), Some(length));

    assert!(issued.contains(&("key".to_owned(), key.to_owned())), "the key field is the exact key");
    // The form a browser posts: the fields as issued, `key` perhaps changed, and the file's
    // checksum.
    let with_key = |key: &str| -> Vec<(String, String)> {
        let mut form: Vec<(String, String)> = issued
            .iter()
            .map(|(name, value)| (name.clone(), if name == "key" { key.to_owned() } else { value.clone() }))
            .collect();
        form.push((checksum_field.to_owned(), "AAAAAA==".to_owned()));
        form
    };
    let stored = with_key(key);
    assert_eq!(document.check(bucket, &stored, length, now), Ok(()));
    if let Some(longer) = length.checked_add(1) {
        assert_eq!(document.check(bucket, &stored, longer, now), Err(PolicyViolation::TooLarge));
    }
    assert_eq!(document.check(bucket, &stored, length, expires_at), Err(PolicyViolation::Expired));
    // Any other key, however close, is refused by the key's condition: a sibling in the same
    // folder, a longer or shorter name, S3's `${filename}` placeholder.
    let mut shorter = key.chars();
    shorter.next_back();
    let sibling = match key.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/a.html"),
        None => "a.html".to_owned(),
    };
    for other in [format!("{key}x"), shorter.as_str().to_owned(), format!("{key}${{filename}}"), sibling] {
        if other == key {
            continue;
        }
        let refused = document.check(bucket, &with_key(&other), length, now);
        assert!(
            matches!(&refused, Err(PolicyViolation::ConditionFailed(condition)) if condition.contains("$key")),
            "a policy for {key:?} let {other:?} through: {refused:?}"
        );
    }

    // Its gzip sibling takes the same form with `Content-Encoding: gzip` and fewer bytes than
    // the file, and neither the file's length nor the form without the encoding.
    let Some(gzipped) = policy.gzipped() else {
        assert!(length < 2, "a file of {length} bytes has a gzip policy");
        return;
    };
    let issued = sign_post(&gzipped, &credentials, "us-east-1", now, &SigningKeyCache::default());
    let encoded = &issued.iter().find(|(name, _)| name == "policy").expect("a policy field").1;
    let document = PolicyDocument::decode(encoded).expect("the signer's own gzip policy decodes");
    let mut form = issued.clone();
    form.push((checksum_field.to_owned(), "AAAAAA==".to_owned()));
    assert_eq!(document.check(bucket, &form, length - 1, now), Ok(()));
    assert_eq!(document.check(bucket, &form, length, now), Err(PolicyViolation::TooLarge));
    assert_eq!(document.check(bucket, &form, 0, now), Err(PolicyViolation::TooSmall));
    form.retain(|(name, _)| name != "Content-Encoding");
    assert!(matches!(
        document.check(bucket, &form, 1, now),
        Err(PolicyViolation::ConditionFailed(condition)) if condition.contains("$Content-Encoding")
    ));
}
