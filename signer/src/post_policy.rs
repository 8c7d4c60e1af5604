//! S3 POST policies: the document the signer issues and the check the dev store runs.
//!
//! Issuing: [`sign_post`] turns a [`PostPolicy`] into the form fields a browser posts to S3.
//! Checking: [`PolicyDocument`] parses a base64 policy and [`PolicyDocument::check`] applies S3's
//! rules to a submitted form. Both sides are pure: time and credentials are arguments.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::sigv4::{self, Credentials, SigningKeyCache, ALGORITHM};

/// What one upload may be.
#[derive(Debug, Clone)]
pub struct PostPolicy<'a> {
    pub bucket: &'a str,
    /// The exact key the upload is stored under: the `key` form field and an `eq` condition.
    /// Not a prefix with a `${filename}` key: the browser names the posted file, and any name
    /// would do, such as `a.html` on a policy signed for `a.png`.
    pub key: &'a str,
    pub content_type: &'a str,
    pub content_length: std::ops::RangeInclusive<u64>,
    pub expires_at: OffsetDateTime,
    /// More fields the upload must carry exactly, such as `Cache-Control` or `x-amz-meta-*`.
    pub extra_fields: &'a [(String, String)],
}

/// Form fields for a browser POST, in the order they must be sent (before the file).
pub type FormFields = Vec<(String, String)>;

/// The status S3 answers a successful upload with; 201 carries the stored key in its body.
pub const SUCCESS_STATUS: &str = "201";

/// The field that carries the file's checksum, which the store verifies. The policy requires it
/// with any value: the browser computes it once it has the policy. CRC-32 because every store
/// checks an `x-amz-checksum-*` field of a POST, and SeaweedFS ignores `Content-MD5` there.
pub const CHECKSUM_FIELD: &str = "x-amz-checksum-crc32";

pub fn sign_post(
    policy: &PostPolicy<'_>,
    credentials: &Credentials,
    region: &str,
    now: OffsetDateTime,
    keys: &SigningKeyCache,
) -> FormFields {
    let credential = sigv4::credential(&credentials.access_key_id, now, region);
    let amz_date = sigv4::amz_date(now);
    let mut conditions = vec![
        json!({ "bucket": policy.bucket }),
        json!(["eq", "$key", policy.key]),
        json!({ "success_action_status": SUCCESS_STATUS }),
        json!({ "Content-Type": policy.content_type }),
        json!(["content-length-range", policy.content_length.start(), policy.content_length.end()]),
        json!(["starts-with", format!("${CHECKSUM_FIELD}"), ""]),
        json!({ "x-amz-algorithm": ALGORITHM }),
        json!({ "x-amz-credential": credential }),
        json!({ "x-amz-date": amz_date }),
    ];
    if let Some(token) = &credentials.session_token {
        conditions.push(json!({ "x-amz-security-token": token }));
    }
    for (name, value) in policy.extra_fields {
        conditions.push(json!({ name: value }));
    }
    let document = json!({
        "expiration": expiration(policy.expires_at),
        "conditions": conditions,
    });
    let encoded = BASE64.encode(document.to_string());
    let signing_key = keys.signing_key(&credentials.secret_access_key, now, region, sigv4::SERVICE);
    let signature = sigv4::signature(&signing_key, &encoded);

    let mut fields = vec![
        ("key".to_owned(), policy.key.to_owned()),
        ("Content-Type".to_owned(), policy.content_type.to_owned()),
        ("success_action_status".to_owned(), SUCCESS_STATUS.to_owned()),
        ("x-amz-algorithm".to_owned(), ALGORITHM.to_owned()),
        ("x-amz-credential".to_owned(), credential),
        ("x-amz-date".to_owned(), amz_date),
    ];
    fields.extend(policy.extra_fields.iter().cloned());
    if let Some(token) = &credentials.session_token {
        fields.push(("x-amz-security-token".to_owned(), token.clone()));
    }
    fields.push(("policy".to_owned(), encoded));
    fields.push(("x-amz-signature".to_owned(), signature));
    fields
}

/// `2015-12-30T12:00:00.000Z`: S3 documents millisecond precision and a `Z`.
fn expiration(time: OffsetDateTime) -> String {
    let time = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.millisecond()
    )
}

/// A decoded policy, ready to check a submitted form against.
#[derive(Debug)]
pub struct PolicyDocument {
    pub expiration: OffsetDateTime,
    conditions: Vec<Condition>,
}

#[derive(Debug, PartialEq)]
enum Condition {
    /// `{"name": "value"}` or `["eq", "$name", "value"]`.
    Equals { field: String, value: String },
    /// `["starts-with", "$name", "prefix"]`.
    StartsWith { field: String, prefix: String },
    /// `["content-length-range", min, max]`.
    ContentLength { min: u64, max: u64 },
}

/// Why a form does not match its policy; the text follows S3's wording.
#[derive(Debug, PartialEq, Eq)]
pub enum PolicyViolation {
    Malformed(String),
    Expired,
    ConditionFailed(String),
    ExtraField(String),
    TooSmall,
    TooLarge,
}

impl std::fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyViolation::Malformed(why) => write!(f, "Invalid Policy: {why}"),
            PolicyViolation::Expired => write!(f, "Invalid according to Policy: Policy expired"),
            PolicyViolation::ConditionFailed(condition) => {
                write!(f, "Invalid according to Policy: Policy Condition failed: {condition}")
            }
            PolicyViolation::ExtraField(field) => {
                write!(f, "Invalid according to Policy: Extra input fields: {field}")
            }
            PolicyViolation::TooSmall => {
                write!(f, "Your proposed upload is smaller than the minimum allowed size")
            }
            PolicyViolation::TooLarge => write!(f, "Your proposed upload exceeds the maximum allowed size"),
        }
    }
}

/// Form fields S3 never requires a condition for.
fn is_exempt(field: &str) -> bool {
    matches!(field, "policy" | "x-amz-signature" | "file" | "bucket") || field.starts_with("x-ignore-")
}

impl PolicyDocument {
    /// Decodes a base64 `policy` field.
    pub fn decode(encoded: &str) -> Result<PolicyDocument, PolicyViolation> {
        let malformed = |why: &str| PolicyViolation::Malformed(why.to_owned());
        let bytes = BASE64.decode(encoded.trim()).map_err(|_| malformed("not base64"))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| malformed("not JSON"))?;
        let expiration =
            value.get("expiration").and_then(Value::as_str).ok_or_else(|| malformed("missing expiration"))?;
        let expiration = OffsetDateTime::parse(expiration, &Rfc3339)
            .map_err(|_| malformed("expiration is not an ISO 8601 date"))?;
        let raw_conditions = value
            .get("conditions")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("missing conditions"))?;
        let mut conditions = Vec::with_capacity(raw_conditions.len());
        for raw in raw_conditions {
            conditions.push(parse_condition(raw).ok_or_else(|| malformed(&format!("bad condition {raw}")))?);
        }
        Ok(PolicyDocument { expiration, conditions })
    }

    /// Checks `fields` (the form as posted, without the file) and the file's length.
    ///
    /// S3's rules: the policy has not expired; every condition holds; every form field but the
    /// exempt ones is named by some condition. Field names compare case-insensitively, values
    /// exactly.
    pub fn check(
        &self,
        bucket: &str,
        fields: &[(String, String)],
        content_length: u64,
        now: OffsetDateTime,
    ) -> Result<(), PolicyViolation> {
        self.check_fields(bucket, fields, now)?;
        self.check_length(content_length)
    }

    /// Everything but the file's length, which a store can check only once it has the file.
    pub fn check_fields(
        &self,
        bucket: &str,
        fields: &[(String, String)],
        now: OffsetDateTime,
    ) -> Result<(), PolicyViolation> {
        if now >= self.expiration {
            return Err(PolicyViolation::Expired);
        }
        let lookup = |name: &str| -> Option<&str> {
            if name == "bucket" {
                return Some(bucket);
            }
            fields.iter().find(|(field, _)| field.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
        };
        for condition in &self.conditions {
            match condition {
                Condition::Equals { field, value } => {
                    if lookup(field) != Some(value.as_str()) {
                        return Err(PolicyViolation::ConditionFailed(format!(
                            "[\"eq\", \"${field}\", \"{value}\"]"
                        )));
                    }
                }
                Condition::StartsWith { field, prefix } => {
                    // S3 lets a starts-with condition on Content-Type match a comma-separated
                    // list; every element must match.
                    let holds = match lookup(field) {
                        Some(actual) if field.eq_ignore_ascii_case("content-type") => {
                            actual.split(',').all(|part| part.trim().starts_with(prefix.as_str()))
                        }
                        Some(actual) => actual.starts_with(prefix.as_str()),
                        None => false,
                    };
                    if !holds {
                        return Err(PolicyViolation::ConditionFailed(format!(
                            "[\"starts-with\", \"${field}\", \"{prefix}\"]"
                        )));
                    }
                }
                Condition::ContentLength { .. } => {}
            }
        }
        for (name, _) in fields {
            if is_exempt(&name.to_ascii_lowercase()) {
                continue;
            }
            let covered = self.conditions.iter().any(|condition| match condition {
                Condition::Equals { field, .. } | Condition::StartsWith { field, .. } => {
                    field.eq_ignore_ascii_case(name)
                }
                Condition::ContentLength { .. } => false,
            });
            if !covered {
                return Err(PolicyViolation::ExtraField(name.clone()));
            }
        }
        Ok(())
    }

    pub fn check_length(&self, content_length: u64) -> Result<(), PolicyViolation> {
        for condition in &self.conditions {
            if let Condition::ContentLength { min, max } = condition {
                if content_length < *min {
                    return Err(PolicyViolation::TooSmall);
                }
                if content_length > *max {
                    return Err(PolicyViolation::TooLarge);
                }
            }
        }
        Ok(())
    }

    /// The largest file the policy allows, if it says.
    pub fn max_content_length(&self) -> Option<u64> {
        self.conditions.iter().find_map(|condition| match condition {
            Condition::ContentLength { max, .. } => Some(*max),
            _ => None,
        })
    }
}

fn parse_condition(raw: &Value) -> Option<Condition> {
    if let Some(object) = raw.as_object() {
        if object.len() != 1 {
            return None;
        }
        let (field, value) = object.iter().next()?;
        return Some(Condition::Equals { field: field.clone(), value: value.as_str()?.to_owned() });
    }
    let array = raw.as_array()?;
    let operator = array.first()?.as_str()?;
    if operator.eq_ignore_ascii_case("content-length-range") {
        let [_, min, max] = array.as_slice() else { return None };
        return Some(Condition::ContentLength { min: min.as_u64()?, max: max.as_u64()? });
    }
    let [_, field, value] = array.as_slice() else { return None };
    let field = field.as_str()?.strip_prefix('$')?.to_owned();
    let value = value.as_str()?.to_owned();
    match operator {
        "eq" => Some(Condition::Equals { field, value }),
        "starts-with" => Some(Condition::StartsWith { field, prefix: value }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// AWS's worked example, "Browser-Based Upload using HTTP POST (Using AWS Signature Version
    /// 4)": the published base64 policy and the signature AWS computed for it.
    const AWS_POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    const AWS_SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";
    const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn aws_example_fields() -> Vec<(String, String)> {
        [
            ("key", "user/user1/${filename}"),
            ("acl", "public-read"),
            ("success_action_redirect", "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"),
            ("Content-Type", "image/jpeg"),
            ("x-amz-meta-uuid", "14365123651274"),
            ("x-amz-server-side-encryption", "AES256"),
            ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"),
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Date", "20151229T000000Z"),
            ("x-amz-meta-tag", ""),
            ("Policy", AWS_POLICY),
            ("X-Amz-Signature", AWS_SIGNATURE),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
    }

    #[test]
    fn reproduces_the_aws_published_signature() {
        let day = datetime!(2015-12-29 0:00 UTC);
        let key = sigv4::derive_signing_key(AWS_SECRET, day, "us-east-1", "s3");
        assert_eq!(sigv4::signature(&key, AWS_POLICY), AWS_SIGNATURE);
    }

    #[test]
    fn accepts_the_aws_example_form() {
        let policy = PolicyDocument::decode(AWS_POLICY).unwrap();
        assert_eq!(policy.expiration, datetime!(2015-12-30 12:00 UTC));
        let before_expiry = datetime!(2015-12-29 1:00 UTC);
        assert_eq!(policy.check("sigv4examplebucket", &aws_example_fields(), 1024, before_expiry), Ok(()));
    }

    #[test]
    fn rejects_the_aws_example_after_expiry_or_for_another_bucket() {
        let policy = PolicyDocument::decode(AWS_POLICY).unwrap();
        let after = datetime!(2015-12-30 12:00 UTC);
        assert_eq!(
            policy.check("sigv4examplebucket", &aws_example_fields(), 1, after),
            Err(PolicyViolation::Expired)
        );
        let before = datetime!(2015-12-29 1:00 UTC);
        assert!(matches!(
            policy.check("otherbucket", &aws_example_fields(), 1, before),
            Err(PolicyViolation::ConditionFailed(_))
        ));
    }

    fn issued(now: OffsetDateTime) -> FormFields {
        let credentials = Credentials::new("AKIAIOSFODNN7EXAMPLE", AWS_SECRET, None);
        let policy = PostPolicy {
            bucket: "bucket",
            key: "tmp/s3file/abc/a.txt",
            content_type: "text/plain",
            content_length: 0..=100,
            expires_at: now + time::Duration::hours(1),
            extra_fields: &[],
        };
        sign_post(&policy, &credentials, "us-east-1", now, &SigningKeyCache::default())
    }

    /// The form a browser posts with `fields`, `key` in place of the signed one, and a checksum.
    fn with_key(fields: &FormFields, key: &str) -> FormFields {
        let mut form: FormFields = fields
            .iter()
            .map(|(name, value)| (name.clone(), if name == "key" { key.to_owned() } else { value.clone() }))
            .collect();
        form.push((CHECKSUM_FIELD.to_owned(), "AAAAAA==".to_owned()));
        form
    }

    #[test]
    fn issued_policy_is_signed_over_its_base64_document() {
        let now = datetime!(2026-11-22 10:00 UTC);
        let fields = issued(now);
        let value = |name: &str| fields.iter().find(|(field, _)| field == name).unwrap().1.clone();
        let key = sigv4::derive_signing_key(AWS_SECRET, now, "us-east-1", "s3");
        assert_eq!(value("x-amz-signature"), sigv4::signature(&key, &value("policy")));
        assert_eq!(value("x-amz-date"), "20261122T100000Z");
        assert_eq!(value("x-amz-credential"), "AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/s3/aws4_request");
        let document = PolicyDocument::decode(&value("policy")).unwrap();
        assert_eq!(document.expiration, datetime!(2026-11-22 11:00 UTC));
        assert_eq!(document.max_content_length(), Some(100));
    }

    #[test]
    fn issued_policy_accepts_its_own_form_and_nothing_else() {
        let now = datetime!(2026-11-22 10:00 UTC);
        let fields = issued(now);
        let document =
            PolicyDocument::decode(&fields.iter().find(|(n, _)| n == "policy").unwrap().1).unwrap();
        let form = with_key(&fields, "tmp/s3file/abc/a.txt");
        assert_eq!(document.check("bucket", &form, 100, now), Ok(()));
        assert_eq!(document.check("bucket", &form, 101, now), Err(PolicyViolation::TooLarge));
        for other in [
            "tmp/s3file/abd/a.txt",
            "tmp/s3file/abc/a.html",
            "tmp/s3file/abc/a.txt2",
            "tmp/s3file/abc/${filename}",
        ] {
            assert!(
                matches!(
                    document.check("bucket", &with_key(&fields, other), 1, now),
                    Err(PolicyViolation::ConditionFailed(_))
                ),
                "{other}"
            );
        }
        let mut unchecked = form.clone();
        unchecked.retain(|(name, _)| name != CHECKSUM_FIELD);
        assert!(
            matches!(document.check("bucket", &unchecked, 1, now), Err(PolicyViolation::ConditionFailed(_))),
            "the checksum is required"
        );
        let mut extra = form.clone();
        extra.push(("acl".to_owned(), "public-read".to_owned()));
        assert_eq!(
            document.check("bucket", &extra, 1, now),
            Err(PolicyViolation::ExtraField("acl".to_owned()))
        );
        let mut other_type = form.clone();
        other_type.retain(|(name, _)| name != "Content-Type");
        other_type.push(("Content-Type".to_owned(), "text/html".to_owned()));
        assert!(matches!(
            document.check("bucket", &other_type, 1, now),
            Err(PolicyViolation::ConditionFailed(_))
        ));
    }

    #[test]
    fn session_token_is_both_a_field_and_a_condition() {
        let now = datetime!(2026-11-22 10:00 UTC);
        let credentials = Credentials::new("ASIA", AWS_SECRET, Some("token"));
        let policy = PostPolicy {
            bucket: "b",
            key: "p/x",
            content_type: "a/b",
            content_length: 0..=1,
            expires_at: now + time::Duration::minutes(5),
            extra_fields: &[],
        };
        let fields = sign_post(&policy, &credentials, "eu-west-1", now, &SigningKeyCache::default());
        assert!(fields.contains(&("x-amz-security-token".to_owned(), "token".to_owned())));
        let document =
            PolicyDocument::decode(&fields.iter().find(|(n, _)| n == "policy").unwrap().1).unwrap();
        let form = with_key(&fields, "p/x");
        assert_eq!(document.check("b", &form, 1, now), Ok(()));
        let without_token: FormFields =
            form.into_iter().filter(|(n, _)| n != "x-amz-security-token").collect();
        assert!(matches!(
            document.check("b", &without_token, 1, now),
            Err(PolicyViolation::ConditionFailed(_))
        ));
    }

    #[test]
    fn extra_fields_are_sent_and_required_exactly() {
        let now = datetime!(2026-11-22 10:00 UTC);
        let credentials = Credentials::new("AKID", AWS_SECRET, None);
        let extra = [("Cache-Control".to_owned(), "max-age=60".to_owned())];
        let policy = PostPolicy {
            bucket: "b",
            key: "p/x",
            content_type: "a/b",
            content_length: 0..=1,
            expires_at: now + time::Duration::minutes(5),
            extra_fields: &extra,
        };
        let fields = sign_post(&policy, &credentials, "us-east-1", now, &SigningKeyCache::default());
        assert!(fields.contains(&extra[0]));
        let document =
            PolicyDocument::decode(&fields.iter().find(|(n, _)| n == "policy").unwrap().1).unwrap();
        let form = with_key(&fields, "p/x");
        assert_eq!(document.check("b", &form, 1, now), Ok(()));
        let altered: FormFields = form
            .iter()
            .map(|(n, v)| (n.clone(), if n == "Cache-Control" { "no-store".to_owned() } else { v.clone() }))
            .collect();
        assert!(matches!(document.check("b", &altered, 1, now), Err(PolicyViolation::ConditionFailed(_))));
    }

    #[test]
    fn malformed_policies_are_refused() {
        for bad in ["%%%", "bm90IGpzb24=", "e30=", "eyJleHBpcmF0aW9uIjoieCJ9"] {
            assert!(matches!(PolicyDocument::decode(bad), Err(PolicyViolation::Malformed(_))), "{bad}");
        }
    }
}
