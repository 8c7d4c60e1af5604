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

use crate::gzip::ContentEncoding;
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
    /// The field the file's checksum comes in, which the store verifies
    /// (`UploadChecksum::post_field`): the policy requires it, with any value, since the
    /// browser computes it once it has the policy.
    pub checksum_field: Option<&'a str>,
    /// How the posted bytes are encoded: a gzip policy requires the field `Content-Encoding:
    /// gzip`, which S3 stores the object with.
    pub content_encoding: ContentEncoding,
}

impl<'a> PostPolicy<'a> {
    /// The policy of the same upload sent gzip-compressed (`AWS_IS_GZIPPED`): everything as in
    /// this one but the field `Content-Encoding: gzip` and a length from 1 to one byte less than
    /// this one's largest, so that only compressed bytes smaller than the file go up this way
    /// (the browser sends the file as it is otherwise). `None` for a file under 2 bytes, which
    /// no compressed body can undercut.
    pub fn gzipped(&self) -> Option<PostPolicy<'a>> {
        let below = self.content_length.end().checked_sub(1).filter(|below| *below >= 1)?;
        Some(PostPolicy {
            content_length: 1..=below,
            content_encoding: ContentEncoding::Gzip,
            ..self.clone()
        })
    }
}

/// Form fields for a browser POST, in the order they must be sent (before the file).
pub type FormFields = Vec<(String, String)>;

/// The status S3 answers a successful upload with; 201 carries the stored key in its body.
pub const SUCCESS_STATUS: &str = "201";

/// The form field S3 stores as the object's `Content-Encoding`.
pub const CONTENT_ENCODING: &str = "Content-Encoding";

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
    ];
    if let Some(encoding) = policy.content_encoding.header() {
        conditions.push(json!({ CONTENT_ENCODING: encoding }));
    }
    conditions.extend([
        json!(["content-length-range", policy.content_length.start(), policy.content_length.end()]),
        json!({ "x-amz-algorithm": ALGORITHM }),
        json!({ "x-amz-credential": credential }),
        json!({ "x-amz-date": amz_date }),
    ]);
    if let Some(field) = policy.checksum_field {
        conditions.push(json!(["starts-with", format!("${field}"), ""]));
    }
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
    ];
    if let Some(encoding) = policy.content_encoding.header() {
        fields.push((CONTENT_ENCODING.to_owned(), encoding.to_owned()));
    }
    fields.extend([
        ("success_action_status".to_owned(), SUCCESS_STATUS.to_owned()),
        ("x-amz-algorithm".to_owned(), ALGORITHM.to_owned()),
        ("x-amz-credential".to_owned(), credential),
        ("x-amz-date".to_owned(), amz_date),
    ]);
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

    /// The example form before and at its expiry, and posted to another bucket.
    #[test]
    fn the_aws_example_form_holds_for_its_bucket_until_it_expires() {
        let policy = PolicyDocument::decode(AWS_POLICY).unwrap();
        assert_eq!(policy.expiration, datetime!(2015-12-30 12:00 UTC));
        let cases = [
            ("before expiry", "sigv4examplebucket", datetime!(2015-12-29 1:00 UTC), Ok(())),
            (
                "at expiry",
                "sigv4examplebucket",
                datetime!(2015-12-30 12:00 UTC),
                Err(PolicyViolation::Expired),
            ),
            (
                "for another bucket",
                "otherbucket",
                datetime!(2015-12-29 1:00 UTC),
                condition_failed(r#"["eq", "$bucket", "sigv4examplebucket"]"#),
            ),
        ];
        for (case, bucket, now, expected) in cases {
            assert_eq!(policy.check(bucket, &aws_example_fields(), 1024, now), expected, "{case}");
        }
    }

    /// The refusal of a form for `condition`, written as S3 words it.
    fn condition_failed(condition: &str) -> Result<(), PolicyViolation> {
        Err(PolicyViolation::ConditionFailed(condition.to_owned()))
    }

    const CHECKSUM_FIELD: &str = "x-amz-checksum-crc32";

    fn issued(now: OffsetDateTime) -> FormFields {
        issued_with_checksum(now, Some(CHECKSUM_FIELD))
    }

    fn issued_with_checksum(now: OffsetDateTime, checksum_field: Option<&str>) -> FormFields {
        let credentials = Credentials::new("AKIAIOSFODNN7EXAMPLE", AWS_SECRET, None);
        let policy = PostPolicy {
            bucket: "bucket",
            key: "tmp/s3file/abc/a.txt",
            content_type: "text/plain",
            content_length: 0..=100,
            expires_at: now + time::Duration::hours(1),
            extra_fields: &[],
            checksum_field,
            content_encoding: ContentEncoding::AsIs,
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
    fn the_policy_allows_exactly_the_checksum_field_it_names() {
        let now = datetime!(2026-11-22 10:00 UTC);
        let md5 = ("Content-MD5".to_owned(), "1B2M2Y8AsgTpgAmY7PhCfg==".to_owned());
        let crc32 = (CHECKSUM_FIELD.to_owned(), "AAAAAA==".to_owned());
        let cases = [
            (Some("Content-MD5"), Some(md5.clone()), Ok(())),
            (Some(CHECKSUM_FIELD), Some(crc32.clone()), Ok(())),
            (
                Some("Content-MD5"),
                Some(crc32.clone()),
                condition_failed(r#"["starts-with", "$Content-MD5", ""]"#),
            ),
            (Some("Content-MD5"), None, condition_failed(r#"["starts-with", "$Content-MD5", ""]"#)),
            (None, None, Ok(())),
            (None, Some(md5.clone()), Err(PolicyViolation::ExtraField("Content-MD5".to_owned()))),
        ];
        for (checksum_field, sent, expected) in cases {
            let fields = issued_with_checksum(now, checksum_field);
            let document =
                PolicyDocument::decode(&fields.iter().find(|(n, _)| n == "policy").unwrap().1).unwrap();
            let mut form = fields.clone();
            form.extend(sent.clone());
            assert_eq!(document.check("bucket", &form, 1, now), expected, "{checksum_field:?} with {sent:?}");
        }
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

    /// `form` with the field `name` set to `value` (added if it is not there).
    fn replaced(form: &FormFields, name: &str, value: &str) -> FormFields {
        let mut replaced = without(form, name);
        replaced.push((name.to_owned(), value.to_owned()));
        replaced
    }

    fn without(form: &FormFields, name: &str) -> FormFields {
        form.iter().filter(|(field, _)| field != name).cloned().collect()
    }

    #[test]
    fn issued_policy_accepts_its_own_form_and_nothing_else() {
        let now = datetime!(2026-11-22 10:00 UTC);
        let fields = issued(now);
        let document =
            PolicyDocument::decode(&fields.iter().find(|(n, _)| n == "policy").unwrap().1).unwrap();
        let form = with_key(&fields, "tmp/s3file/abc/a.txt");
        let other_key = || condition_failed(r#"["eq", "$key", "tmp/s3file/abc/a.txt"]"#);
        let cases = [
            ("its own form", form.clone(), 100, Ok(())),
            ("a file over the signed length", form.clone(), 101, Err(PolicyViolation::TooLarge)),
            ("another folder", with_key(&fields, "tmp/s3file/abd/a.txt"), 1, other_key()),
            ("another extension", with_key(&fields, "tmp/s3file/abc/a.html"), 1, other_key()),
            ("a longer name", with_key(&fields, "tmp/s3file/abc/a.txt2"), 1, other_key()),
            ("the name S3 fills in", with_key(&fields, "tmp/s3file/abc/${filename}"), 1, other_key()),
            (
                "no checksum",
                without(&form, CHECKSUM_FIELD),
                1,
                condition_failed(&format!(r#"["starts-with", "${CHECKSUM_FIELD}", ""]"#)),
            ),
            (
                "a field the policy does not name",
                replaced(&form, "acl", "public-read"),
                1,
                Err(PolicyViolation::ExtraField("acl".to_owned())),
            ),
            (
                "another content type",
                replaced(&form, "Content-Type", "text/html"),
                1,
                condition_failed(r#"["eq", "$Content-Type", "text/plain"]"#),
            ),
        ];
        for (case, form, length, expected) in cases {
            assert_eq!(document.check("bucket", &form, length, now), expected, "{case}");
        }
    }

    /// Fields signed on top of the usual ones (a session token, the operator's extra fields) are
    /// sent with the form, and the policy takes them only as they were signed.
    #[test]
    fn added_fields_are_sent_and_required_exactly() {
        let now = datetime!(2026-11-22 10:00 UTC);
        let cases = [
            (
                "a session token",
                Credentials::new("ASIA", AWS_SECRET, Some("token")),
                vec![],
                ("x-amz-security-token", "token"),
            ),
            (
                "an extra field",
                Credentials::new("AKID", AWS_SECRET, None),
                vec![("Cache-Control".to_owned(), "max-age=60".to_owned())],
                ("Cache-Control", "max-age=60"),
            ),
        ];
        for (case, credentials, extra_fields, (name, value)) in cases {
            let policy = PostPolicy {
                bucket: "b",
                key: "p/x",
                content_type: "a/b",
                content_length: 0..=1,
                expires_at: now + time::Duration::minutes(5),
                extra_fields: &extra_fields,
                checksum_field: Some(CHECKSUM_FIELD),
                content_encoding: ContentEncoding::AsIs,
            };
            let fields = sign_post(&policy, &credentials, "us-east-1", now, &SigningKeyCache::default());
            assert!(fields.contains(&(name.to_owned(), value.to_owned())), "{case}: {fields:?}");
            let document =
                PolicyDocument::decode(&fields.iter().find(|(n, _)| n == "policy").unwrap().1).unwrap();
            let form = with_key(&fields, "p/x");
            let condition = condition_failed(&format!(r#"["eq", "${name}", "{value}"]"#));
            assert_eq!(document.check("b", &form, 1, now), Ok(()), "{case}: the signed form");
            assert_eq!(document.check("b", &without(&form, name), 1, now), condition, "{case}: left out");
            let altered = replaced(&form, name, "altered");
            assert_eq!(document.check("b", &altered, 1, now), condition, "{case}: altered");
        }
    }

    /// The document's conditions and the form's fields, as issued.
    fn conditions_and_fields(policy: &PostPolicy<'_>, now: OffsetDateTime) -> (Vec<Value>, FormFields) {
        let credentials = Credentials::new("AKIAIOSFODNN7EXAMPLE", AWS_SECRET, None);
        let fields = sign_post(policy, &credentials, "us-east-1", now, &SigningKeyCache::default());
        let encoded = &fields.iter().find(|(name, _)| name == "policy").unwrap().1;
        let document: Value = serde_json::from_slice(&BASE64.decode(encoded).unwrap()).unwrap();
        (document["conditions"].as_array().unwrap().clone(), fields)
    }

    fn plain_policy(size: u64, extra_fields: &[(String, String)], now: OffsetDateTime) -> PostPolicy<'_> {
        PostPolicy {
            bucket: "bucket",
            key: "tmp/s3file/abc/a.css",
            content_type: "text/css",
            content_length: size..=size,
            expires_at: now + time::Duration::hours(1),
            extra_fields,
            checksum_field: Some(CHECKSUM_FIELD),
            content_encoding: ContentEncoding::AsIs,
        }
    }

    /// The gzip policy is the plain one with exactly two changes: `Content-Encoding: gzip`
    /// required (and sent, after `Content-Type`), and a length below the file's.
    #[test]
    fn the_gzip_policy_differs_in_its_encoding_and_length_alone() {
        let now = datetime!(2026-11-22 10:00 UTC);
        let extra = vec![("Cache-Control".to_owned(), "max-age=60".to_owned())];
        let plain = plain_policy(100, &extra, now);
        let gzipped = plain.gzipped().unwrap();
        let (plain_conditions, plain_fields) = conditions_and_fields(&plain, now);
        let (gzip_conditions, gzip_fields) = conditions_and_fields(&gzipped, now);

        let mut expected = plain_conditions.clone();
        let range = expected.iter().position(|c| c[0] == "content-length-range").unwrap();
        expected[range] = json!(["content-length-range", 1, 99]);
        let content_type = expected.iter().position(|c| c.get("Content-Type").is_some()).unwrap();
        expected.insert(content_type + 1, json!({"Content-Encoding": "gzip"}));
        assert_eq!(gzip_conditions, expected);

        let mut expected: FormFields = plain_fields
            .iter()
            .filter(|(name, _)| name != "policy" && name != "x-amz-signature")
            .cloned()
            .collect();
        expected.insert(2, ("Content-Encoding".to_owned(), "gzip".to_owned()));
        let signed: FormFields = gzip_fields
            .iter()
            .filter(|(name, _)| name != "policy" && name != "x-amz-signature")
            .cloned()
            .collect();
        assert_eq!(signed, expected);
        assert_eq!(gzip_fields[1].0, "Content-Type");
        assert_eq!(gzip_fields[2], ("Content-Encoding".to_owned(), "gzip".to_owned()));
    }

    #[test]
    fn the_gzip_policy_takes_only_gzip_bytes_smaller_than_the_file() {
        let now = datetime!(2026-11-22 10:00 UTC);
        let plain = plain_policy(100, &[], now);
        let (_, fields) = conditions_and_fields(&plain.gzipped().unwrap(), now);
        let document =
            PolicyDocument::decode(&fields.iter().find(|(n, _)| n == "policy").unwrap().1).unwrap();
        let form = with_key(&fields, "tmp/s3file/abc/a.css");
        let encoding = || condition_failed(r#"["eq", "$Content-Encoding", "gzip"]"#);
        let cases = [
            ("one byte", form.clone(), 1, Ok(())),
            ("a byte less than the file", form.clone(), 99, Ok(())),
            ("as long as the file", form.clone(), 100, Err(PolicyViolation::TooLarge)),
            ("nothing", form.clone(), 0, Err(PolicyViolation::TooSmall)),
            ("without Content-Encoding", without(&form, "Content-Encoding"), 50, encoding()),
            ("another encoding", replaced(&form, "Content-Encoding", "br"), 50, encoding()),
            ("gzip in capitals", replaced(&form, "Content-Encoding", "GZIP"), 50, encoding()),
        ];
        for (case, form, length, expected) in cases {
            assert_eq!(document.check("bucket", &form, length, now), expected, "{case}");
        }
        // And the plain policy takes no Content-Encoding at all.
        let (_, fields) = conditions_and_fields(&plain, now);
        let document =
            PolicyDocument::decode(&fields.iter().find(|(n, _)| n == "policy").unwrap().1).unwrap();
        let encoded = replaced(&with_key(&fields, "tmp/s3file/abc/a.css"), "Content-Encoding", "gzip");
        let refused = Err(PolicyViolation::ExtraField("Content-Encoding".to_owned()));
        assert_eq!(document.check("bucket", &encoded, 100, now), refused);
    }

    #[test]
    fn files_under_two_bytes_have_no_gzip_policy() {
        let now = datetime!(2026-11-22 10:00 UTC);
        let range = |size| plain_policy(size, &[], now).gzipped().map(|policy| policy.content_length);
        assert_eq!(range(0), None);
        assert_eq!(range(1), None);
        assert_eq!(range(2), Some(1..=1));
        assert_eq!(range(u64::MAX), Some(1..=u64::MAX - 1));
    }

    #[test]
    fn malformed_policies_are_refused() {
        let cases = [
            ("%%%", "not base64"),
            ("bm90IGpzb24=", "not JSON"),
            ("e30=", "missing expiration"),
            ("eyJleHBpcmF0aW9uIjoieCJ9", "expiration is not an ISO 8601 date"),
        ];
        for (policy, why) in cases {
            let refused = PolicyDocument::decode(policy).err();
            assert_eq!(refused, Some(PolicyViolation::Malformed(why.to_owned())), "{policy}");
        }
    }
}
