//! Verifies the SigV4 `Authorization` header of requests to the dev store.
//!
//! Rather than a second SigV4 implementation, the request is signed again with `aws-sigv4`,
//! over exactly the headers the client says it signed, at the time it says it signed; the
//! signatures must match.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use http::HeaderMap;
use subtle::ConstantTimeEq;

use crate::sigv4::{self, ALGORITHM};

/// How far a request's `x-amz-date` may be from the store's clock, as in S3.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    Malformed(&'static str),
    UnknownAccessKey,
    Skewed,
    SignatureMismatch,
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthError::Missing => f.write_str("Anonymous access is not allowed"),
            AuthError::Malformed(what) => write!(f, "The authorization header is malformed: {what}"),
            AuthError::UnknownAccessKey => {
                f.write_str("The AWS access key Id you provided does not exist in our records")
            }
            AuthError::Skewed => {
                f.write_str("The difference between the request time and the current time is too large")
            }
            AuthError::SignatureMismatch => {
                f.write_str("The request signature we calculated does not match the signature you provided")
            }
        }
    }
}

struct Authorization<'a> {
    access_key_id: &'a str,
    region: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, AuthError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or(AuthError::Malformed("unsupported algorithm"))?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", value)) => credential = Some(value),
            Some(("SignedHeaders", value)) => signed_headers = Some(value),
            Some(("Signature", value)) => signature = Some(value),
            _ => return Err(AuthError::Malformed("unknown component")),
        }
    }
    let credential = credential.ok_or(AuthError::Malformed("no Credential"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, _date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(AuthError::Malformed("bad credential scope"));
    };
    if *service != sigv4::SERVICE {
        return Err(AuthError::Malformed("credential scope is not for s3"));
    }
    Ok(Authorization {
        access_key_id,
        region,
        signed_headers: signed_headers.ok_or(AuthError::Malformed("no SignedHeaders"))?.split(';').collect(),
        signature: signature.ok_or(AuthError::Malformed("no Signature"))?,
    })
}

fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let time = time::PrimitiveDateTime::parse(value, &format).ok()?.assume_utc();
    Some(SystemTime::from(time))
}

/// Checks `headers`' signature of a request for `path_and_query` (as received).
pub fn verify(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    credentials: &sigv4::Credentials,
    now: SystemTime,
) -> Result<(), AuthError> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let authorization = parse_authorization(header("authorization").ok_or(AuthError::Missing)?)?;
    if authorization.access_key_id.as_bytes().ct_eq(credentials.access_key_id.as_bytes()).unwrap_u8() != 1 {
        return Err(AuthError::UnknownAccessKey);
    }
    let signed_at =
        header("x-amz-date").and_then(parse_amz_date).ok_or(AuthError::Malformed("bad x-amz-date"))?;
    let skew = now.duration_since(signed_at).or_else(|early| Ok::<_, AuthError>(early.duration()))?;
    if skew > MAX_SKEW {
        return Err(AuthError::Skewed);
    }
    let payload_hash =
        header("x-amz-content-sha256").ok_or(AuthError::Malformed("no x-amz-content-sha256"))?;
    if !authorization.signed_headers.contains(&"host") {
        return Err(AuthError::Malformed("host is not signed"));
    }
    let mut signed = Vec::with_capacity(authorization.signed_headers.len());
    for name in &authorization.signed_headers {
        signed.push((*name, header(name).ok_or(AuthError::Malformed("a signed header is missing"))?));
    }
    let host = header("host").ok_or(AuthError::Malformed("no host"))?;
    let uri = format!("http://{host}{path_and_query}");
    let request = SignableRequest::new(
        method,
        uri,
        signed.into_iter(),
        SignableBody::Precomputed(payload_hash.to_owned()),
    )
    .map_err(|_| AuthError::Malformed("unsignable request"))?;

    let identity: Identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        credentials.secret_access_key.as_str(),
        credentials.session_token.clone(),
        None,
        "dev-store",
    )
    .into();
    let mut settings = SigningSettings::default();
    // S3's rules: paths are signed as sent, escaped once, and the payload hash is a header.
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.excluded_headers = None;
    let params = SigningParams::builder()
        .identity(&identity)
        .region(authorization.region)
        .name(sigv4::SERVICE)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|_| AuthError::Malformed("unsignable request"))?;
    let expected = sign(request, &params.into()).map_err(|_| AuthError::Malformed("unsignable request"))?;
    if expected.signature().as_bytes().ct_eq(authorization.signature.as_bytes()).unwrap_u8() != 1 {
        return Err(AuthError::SignatureMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_authorization_header() {
        let value = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        let parsed = parse_authorization(value).unwrap();
        assert_eq!(parsed.access_key_id, "AKID");
        assert_eq!(parsed.region, "us-east-1");
        assert_eq!(parsed.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(parsed.signature, "abc");
        assert!(parse_authorization("AWS4-HMAC-SHA1 Credential=x").is_err());
        assert!(parse_authorization("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=a").is_err());
    }

    #[test]
    fn parses_amz_dates() {
        let parsed = parse_amz_date("20151229T000000Z").unwrap();
        assert_eq!(parsed.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(), 1_451_347_200);
        assert_eq!(parse_amz_date("2015-12-29"), None);
    }
}
