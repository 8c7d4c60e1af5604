//! Verifies SigV4 on requests to the dev store: the `Authorization` header of the signer's own
//! SDK requests, and the query-string signature of presigned URLs (`X-Amz-Signature`).
//!
//! Rather than a second SigV4 implementation, the request is signed again with `aws-sigv4`,
//! over exactly the headers the client says it signed, at the time it says it signed; the
//! signatures must match. Around that, the rules S3 adds: one mechanism per request, the
//! credential's scope, the clock (skew for headers, `X-Amz-Expires` for URLs), the session
//! token, and every `x-amz-*` header sent must be signed.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, StatusCode};
use subtle::ConstantTimeEq;

use crate::sigv4::{self, ALGORITHM};

/// How far a request's `x-amz-date` may be from the store's clock, as in S3.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The longest a presigned URL may be valid, as in S3: a week.
pub const MAX_EXPIRES: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The query parameters of a presigned URL's signature; everything else in the query is signed.
const QUERY_AUTH_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
];

#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    BothMechanisms,
    MalformedHeader(&'static str),
    MalformedQuery(&'static str),
    UnknownAccessKey,
    Skewed,
    Expired,
    NotYetValid,
    InvalidToken,
    HeadersNotSigned(String),
    SignatureMismatch,
}

impl AuthError {
    /// The HTTP status and S3 error code S3 answers with.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AuthError::Missing
            | AuthError::Expired
            | AuthError::NotYetValid
            | AuthError::HeadersNotSigned(_) => (StatusCode::FORBIDDEN, "AccessDenied"),
            AuthError::BothMechanisms => (StatusCode::BAD_REQUEST, "InvalidArgument"),
            AuthError::MalformedHeader(_) => (StatusCode::BAD_REQUEST, "AuthorizationHeaderMalformed"),
            AuthError::MalformedQuery(_) => (StatusCode::BAD_REQUEST, "AuthorizationQueryParametersError"),
            AuthError::UnknownAccessKey => (StatusCode::FORBIDDEN, "InvalidAccessKeyId"),
            AuthError::Skewed => (StatusCode::FORBIDDEN, "RequestTimeTooSkewed"),
            AuthError::InvalidToken => (StatusCode::BAD_REQUEST, "InvalidToken"),
            AuthError::SignatureMismatch => (StatusCode::FORBIDDEN, "SignatureDoesNotMatch"),
        }
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthError::Missing => f.write_str("Anonymous access is not allowed"),
            AuthError::BothMechanisms => f.write_str(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
            ),
            AuthError::MalformedHeader(what) => write!(f, "The authorization header is malformed: {what}"),
            AuthError::MalformedQuery(what) => write!(f, "Error parsing the query-string authorization: {what}"),
            AuthError::UnknownAccessKey => {
                f.write_str("The AWS access key Id you provided does not exist in our records")
            }
            AuthError::Skewed => {
                f.write_str("The difference between the request time and the current time is too large")
            }
            AuthError::Expired => f.write_str("Request has expired"),
            AuthError::NotYetValid => f.write_str("Request is not valid yet"),
            AuthError::InvalidToken => f.write_str("The provided token is malformed or otherwise invalid."),
            AuthError::HeadersNotSigned(names) => {
                write!(f, "There were headers present in the request which were not signed: {names}")
            }
            AuthError::SignatureMismatch => {
                f.write_str("The request signature we calculated does not match the signature you provided")
            }
        }
    }
}

/// Checks the signature of a request for `path_and_query` (as received): the `Authorization`
/// header, or the query string of a presigned URL.
pub fn verify(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    credentials: &sigv4::Credentials,
    now: SystemTime,
) -> Result<(), AuthError> {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    match (parse_query_authorization(query)?, headers.contains_key(http::header::AUTHORIZATION)) {
        (Some(_), true) => Err(AuthError::BothMechanisms),
        (Some(authorization), false) => verify_query(method, path, &authorization, headers, credentials, now),
        (None, _) => verify_header(method, path_and_query, headers, credentials, now),
    }
}

struct HeaderAuthorization<'a> {
    access_key_id: &'a str,
    region: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<HeaderAuthorization<'_>, AuthError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or(AuthError::MalformedHeader("unsupported algorithm"))?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", value)) => credential = Some(value),
            Some(("SignedHeaders", value)) => signed_headers = Some(value),
            Some(("Signature", value)) => signature = Some(value),
            _ => return Err(AuthError::MalformedHeader("unknown component")),
        }
    }
    let credential = credential.ok_or(AuthError::MalformedHeader("no Credential"))?;
    let (access_key_id, _date, region) =
        parse_scope(credential).ok_or(AuthError::MalformedHeader("bad credential scope"))?;
    Ok(HeaderAuthorization {
        access_key_id,
        region,
        signed_headers: signed_headers
            .ok_or(AuthError::MalformedHeader("no SignedHeaders"))?
            .split(';')
            .collect(),
        signature: signature.ok_or(AuthError::MalformedHeader("no Signature"))?,
    })
}

/// `AKID/20260101/us-east-1/s3/aws4_request` as (access key id, date, region).
fn parse_scope(credential: &str) -> Option<(&str, &str, &str)> {
    let scope: Vec<&str> = credential.split('/').collect();
    match scope.as_slice() {
        [access_key_id, date, region, service, "aws4_request"] if *service == sigv4::SERVICE => {
            Some((access_key_id, date, region))
        }
        _ => None,
    }
}

fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let time = time::PrimitiveDateTime::parse(value, &format).ok()?.assume_utc();
    Some(SystemTime::from(time))
}

fn verify_header(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    credentials: &sigv4::Credentials,
    now: SystemTime,
) -> Result<(), AuthError> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let authorization = parse_authorization(header("authorization").ok_or(AuthError::Missing)?)?;
    check_access_key(authorization.access_key_id, credentials)?;
    let signed_at =
        header("x-amz-date").and_then(parse_amz_date).ok_or(AuthError::MalformedHeader("bad x-amz-date"))?;
    let skew = now.duration_since(signed_at).or_else(|early| Ok::<_, AuthError>(early.duration()))?;
    if skew > MAX_SKEW {
        return Err(AuthError::Skewed);
    }
    let payload_hash =
        header("x-amz-content-sha256").ok_or(AuthError::MalformedHeader("no x-amz-content-sha256"))?;
    if !authorization.signed_headers.contains(&"host") {
        return Err(AuthError::MalformedHeader("host is not signed"));
    }
    check_token(header("x-amz-security-token"), credentials)?;
    check_amz_headers_signed(headers, &authorization.signed_headers)?;
    let mut signed = Vec::with_capacity(authorization.signed_headers.len());
    for name in &authorization.signed_headers {
        signed.push((*name, header(name).ok_or(AuthError::MalformedHeader("a signed header is missing"))?));
    }
    let mut settings = s3_settings();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let expected = signature_of(
        method,
        path_and_query,
        signed,
        SignableBody::Precomputed(payload_hash.to_owned()),
        credentials,
        authorization.region,
        signed_at,
        settings,
    )?;
    check_signature(&expected, authorization.signature)
}

/// A presigned URL's signature parameters, decoded.
#[derive(Debug)]
struct QueryAuthorization {
    credential: String,
    amz_date: String,
    expires: String,
    signed_headers: String,
    security_token: Option<String>,
    signature: String,
    /// The query without the signature parameters, as received.
    signed_query: String,
}

/// `None` when the query carries none of the signature parameters.
fn parse_query_authorization(query: &str) -> Result<Option<QueryAuthorization>, AuthError> {
    let mut found: [Option<String>; 7] = Default::default();
    let mut signed_query = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(index) = QUERY_AUTH_PARAMS.iter().position(|param| *param == name) else {
            signed_query.push(pair);
            continue;
        };
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| AuthError::MalformedQuery("a parameter is not UTF-8"))?;
        if found[index].replace(value.into_owned()).is_some() {
            return Err(AuthError::MalformedQuery("a signature parameter is repeated"));
        }
    }
    if found.iter().all(Option::is_none) {
        return Ok(None);
    }
    let [algorithm, credential, amz_date, expires, signed_headers, security_token, signature] = found;
    if algorithm.as_deref() != Some(ALGORITHM) {
        return Err(AuthError::MalformedQuery("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""));
    }
    let required = |value: Option<String>, what| value.ok_or(AuthError::MalformedQuery(what));
    Ok(Some(QueryAuthorization {
        credential: required(credential, "X-Amz-Credential is missing")?,
        amz_date: required(amz_date, "X-Amz-Date is missing")?,
        expires: required(expires, "X-Amz-Expires is missing")?,
        signed_headers: required(signed_headers, "X-Amz-SignedHeaders is missing")?,
        security_token,
        signature: required(signature, "X-Amz-Signature is missing")?,
        signed_query: signed_query.join("&"),
    }))
}

fn verify_query(
    method: &str,
    path: &str,
    authorization: &QueryAuthorization,
    headers: &HeaderMap,
    credentials: &sigv4::Credentials,
    now: SystemTime,
) -> Result<(), AuthError> {
    let (access_key_id, date, region) = parse_scope(&authorization.credential)
        .ok_or(AuthError::MalformedQuery("X-Amz-Credential is not a credential scope for s3"))?;
    let signed_at = parse_amz_date(&authorization.amz_date)
        .ok_or(AuthError::MalformedQuery("X-Amz-Date must be in the ISO8601 Long Format"))?;
    if !authorization.amz_date.starts_with(date) || date.len() != 8 {
        return Err(AuthError::MalformedQuery("the credential's date is not X-Amz-Date's"));
    }
    let expires = authorization
        .expires
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| AuthError::MalformedQuery("X-Amz-Expires should be a number"))?;
    if expires > MAX_EXPIRES {
        return Err(AuthError::MalformedQuery(
            "X-Amz-Expires must be less than a week (in seconds) that is; 604800",
        ));
    }
    check_access_key(access_key_id, credentials)?;
    if signed_at.checked_add(expires).is_none_or(|until| now > until) {
        return Err(AuthError::Expired);
    }
    if signed_at.duration_since(now).is_ok_and(|early| early > MAX_SKEW) {
        return Err(AuthError::NotYetValid);
    }
    check_token(authorization.security_token.as_deref(), credentials)?;
    let signed_headers: Vec<&str> = authorization.signed_headers.split(';').collect();
    if !signed_headers.contains(&"host") {
        return Err(AuthError::MalformedQuery("host is not signed"));
    }
    check_amz_headers_signed(headers, &signed_headers)?;
    let mut signed = Vec::with_capacity(signed_headers.len());
    for name in &signed_headers {
        // A header signed but not sent cannot have the value that was signed.
        let value =
            headers.get(*name).and_then(|value| value.to_str().ok()).ok_or(AuthError::SignatureMismatch)?;
        signed.push((*name, value));
    }
    let mut settings = s3_settings();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires);
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    let path_and_query: Cow<'_, str> = if authorization.signed_query.is_empty() {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(format!("{path}?{}", authorization.signed_query))
    };
    let expected = signature_of(
        method,
        &path_and_query,
        signed,
        SignableBody::UnsignedPayload,
        credentials,
        region,
        signed_at,
        settings,
    )?;
    check_signature(&expected, &authorization.signature)
}

fn check_access_key(access_key_id: &str, credentials: &sigv4::Credentials) -> Result<(), AuthError> {
    if access_key_id.as_bytes().ct_eq(credentials.access_key_id.as_bytes()).unwrap_u8() != 1 {
        return Err(AuthError::UnknownAccessKey);
    }
    Ok(())
}

/// The session token sent must be the store's: none when the store has none.
fn check_token(sent: Option<&str>, credentials: &sigv4::Credentials) -> Result<(), AuthError> {
    match (sent, credentials.session_token.as_deref()) {
        (None, None) => Ok(()),
        (Some(sent), Some(token)) if sent.as_bytes().ct_eq(token.as_bytes()).unwrap_u8() == 1 => Ok(()),
        _ => Err(AuthError::InvalidToken),
    }
}

/// S3 refuses a request with an `x-amz-*` header its signature does not cover.
fn check_amz_headers_signed(headers: &HeaderMap, signed_headers: &[&str]) -> Result<(), AuthError> {
    let mut unsigned: Vec<&str> = headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("x-amz-") && !signed_headers.contains(name))
        .collect();
    if unsigned.is_empty() {
        return Ok(());
    }
    unsigned.sort_unstable();
    unsigned.dedup();
    Err(AuthError::HeadersNotSigned(unsigned.join(", ")))
}

fn check_signature(expected: &str, sent: &str) -> Result<(), AuthError> {
    if expected.as_bytes().ct_eq(sent.as_bytes()).unwrap_u8() != 1 {
        return Err(AuthError::SignatureMismatch);
    }
    Ok(())
}

/// S3's rules: paths are signed as sent, escaped once; every header the client signed counts.
fn s3_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.excluded_headers = None;
    settings
}

#[allow(clippy::too_many_arguments)]
fn signature_of(
    method: &str,
    path_and_query: &str,
    signed: Vec<(&str, &str)>,
    body: SignableBody<'_>,
    credentials: &sigv4::Credentials,
    region: &str,
    signed_at: SystemTime,
    settings: SigningSettings,
) -> Result<String, AuthError> {
    let query = settings.signature_location == SignatureLocation::QueryParams;
    let unsignable = || match query {
        true => AuthError::MalformedQuery("unsignable request"),
        false => AuthError::MalformedHeader("unsignable request"),
    };
    let host =
        signed.iter().find(|(name, _)| *name == "host").map(|(_, value)| *value).ok_or_else(unsignable)?;
    let uri = format!("http://{host}{path_and_query}");
    let request = SignableRequest::new(method, uri, signed.into_iter(), body).map_err(|_| unsignable())?;
    let identity: Identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        credentials.secret_access_key.as_str(),
        credentials.session_token.clone(),
        None,
        "dev-store",
    )
    .into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(sigv4::SERVICE)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|_| unsignable())?;
    let output = sign(request, &params.into()).map_err(|_| unsignable())?;
    Ok(output.signature().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

    fn credentials(token: Option<&str>) -> sigv4::Credentials {
        sigv4::Credentials::new("AKIDEXAMPLE", "secret-of-the-dev-store", token)
    }

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    const SIGNED_AT: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn header_map(headers: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    /// A presigned URL's path and query, as `aws-sdk-s3`'s presigner makes them.
    fn presign(
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        credentials: &sigv4::Credentials,
        expires: Duration,
    ) -> String {
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
        let identity: Identity = aws_credential_types::Credentials::new(
            &credentials.access_key_id,
            credentials.secret_access_key.as_str(),
            credentials.session_token.clone(),
            None,
            "test",
        )
        .into();
        let params = SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(at(SIGNED_AT))
            .settings(settings)
            .build()
            .unwrap();
        let request = SignableRequest::new(
            method,
            format!("http://127.0.0.1:8000{path_and_query}"),
            headers.iter().copied(),
            SignableBody::UnsignedPayload,
        )
        .unwrap();
        let (instructions, _) = sign(request, &params.into()).unwrap().into_parts();
        let mut url = path_and_query.to_owned();
        for (name, value) in instructions.params() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{name}={}", utf8_percent_encode(value, UNRESERVED)));
        }
        url
    }

    const PART: &str = "/s3/s3file-dev/big%20file.bin?x-id=UploadPart&partNumber=2&uploadId=0123abcd";

    fn part_url(credentials: &sigv4::Credentials) -> String {
        presign(
            "PUT",
            PART,
            &[("host", "127.0.0.1:8000"), ("content-length", "5242880")],
            credentials,
            Duration::from_secs(900),
        )
    }

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

    /// The presigned URL of the S3 documentation ("Authenticating Requests: Using Query
    /// Parameters"), signed by AWS, not by the library this module signs with.
    #[test]
    fn verifies_the_s3_documentations_presigned_url() {
        let credentials =
            sigv4::Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None);
        let url = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
        let headers = header_map(&[("host", "examplebucket.s3.amazonaws.com")]);
        let signed_at = 1_369_353_600; // 2013-05-24T00:00:00Z
        assert_eq!(verify("GET", url, &headers, &credentials, at(signed_at + 60)), Ok(()));
        assert_eq!(verify("GET", url, &headers, &credentials, at(signed_at + 86_400)), Ok(()));
        assert_eq!(
            verify("GET", url, &headers, &credentials, at(signed_at + 86_401)),
            Err(AuthError::Expired)
        );
        assert_eq!(
            verify("HEAD", url, &headers, &credentials, at(signed_at + 60)),
            Err(AuthError::SignatureMismatch)
        );
        let other_key = url.replace("/test.txt", "/test2.txt");
        assert_eq!(
            verify("GET", &other_key, &headers, &credentials, at(signed_at + 60)),
            Err(AuthError::SignatureMismatch)
        );
        let other_host = header_map(&[("host", "otherbucket.s3.amazonaws.com")]);
        assert_eq!(
            verify("GET", url, &other_host, &credentials, at(signed_at + 60)),
            Err(AuthError::SignatureMismatch)
        );
    }

    #[test]
    fn a_presigned_part_url_binds_its_signed_headers_and_query() {
        let credentials = credentials(None);
        let url = part_url(&credentials);
        assert!(url.contains("X-Amz-SignedHeaders=content-length%3Bhost"), "{url}");
        let now = at(SIGNED_AT + 10);
        let sent = |headers: &[(&str, &str)]| header_map(headers);
        let good = sent(&[("host", "127.0.0.1:8000"), ("content-length", "5242880")]);
        assert_eq!(verify("PUT", &url, &good, &credentials, now), Ok(()));
        // Unsigned headers other than x-amz-* may come along, as browsers add their own.
        let with_browser_headers = sent(&[
            ("host", "127.0.0.1:8000"),
            ("content-length", "5242880"),
            ("origin", "http://127.0.0.1:8000"),
            ("content-type", "application/octet-stream"),
        ]);
        assert_eq!(verify("PUT", &url, &with_browser_headers, &credentials, now), Ok(()));

        let other_length = sent(&[("host", "127.0.0.1:8000"), ("content-length", "5")]);
        assert_eq!(verify("PUT", &url, &other_length, &credentials, now), Err(AuthError::SignatureMismatch));
        let no_length = sent(&[("host", "127.0.0.1:8000")]);
        assert_eq!(verify("PUT", &url, &no_length, &credentials, now), Err(AuthError::SignatureMismatch));
        let unsigned_amz = sent(&[
            ("host", "127.0.0.1:8000"),
            ("content-length", "5242880"),
            ("x-amz-meta-owner", "mallory"),
        ]);
        assert_eq!(
            verify("PUT", &url, &unsigned_amz, &credentials, now),
            Err(AuthError::HeadersNotSigned("x-amz-meta-owner".to_owned()))
        );
        let other_part = url.replace("partNumber=2", "partNumber=3");
        assert_eq!(verify("PUT", &other_part, &good, &credentials, now), Err(AuthError::SignatureMismatch));
        let other_upload = url.replace("uploadId=0123abcd", "uploadId=0123abce");
        assert_eq!(verify("PUT", &other_upload, &good, &credentials, now), Err(AuthError::SignatureMismatch));
        let added_param = format!("{url}&versionId=1");
        assert_eq!(verify("PUT", &added_param, &good, &credentials, now), Err(AuthError::SignatureMismatch));
        let longer = url.replace("X-Amz-Expires=900", "X-Amz-Expires=9000");
        assert_eq!(verify("PUT", &longer, &good, &credentials, now), Err(AuthError::SignatureMismatch));
        let signature = url.rsplit_once("X-Amz-Signature=").unwrap().1;
        let flipped: String = signature.chars().rev().collect();
        let tampered = url.replace(signature, &flipped);
        assert_eq!(verify("PUT", &tampered, &good, &credentials, now), Err(AuthError::SignatureMismatch));
        let other_secret = sigv4::Credentials::new("AKIDEXAMPLE", "another-secret", None);
        assert_eq!(verify("PUT", &url, &good, &other_secret, now), Err(AuthError::SignatureMismatch));
        let other_id = sigv4::Credentials::new("AKIDOTHER", "secret-of-the-dev-store", None);
        assert_eq!(verify("PUT", &url, &good, &other_id, now), Err(AuthError::UnknownAccessKey));
    }

    #[test]
    fn a_presigned_url_is_valid_from_its_date_for_its_expiry() {
        let credentials = credentials(None);
        let url = part_url(&credentials);
        let headers = header_map(&[("host", "127.0.0.1:8000"), ("content-length", "5242880")]);
        assert_eq!(verify("PUT", &url, &headers, &credentials, at(SIGNED_AT + 900)), Ok(()));
        assert_eq!(verify("PUT", &url, &headers, &credentials, at(SIGNED_AT + 901)), Err(AuthError::Expired));
        // A clock a little behind the signer's is tolerated, as in S3.
        assert_eq!(verify("PUT", &url, &headers, &credentials, at(SIGNED_AT - 60)), Ok(()));
        assert_eq!(
            verify("PUT", &url, &headers, &credentials, at(SIGNED_AT - 3600)),
            Err(AuthError::NotYetValid)
        );
        let week_and_a_second = url.replace("X-Amz-Expires=900", "X-Amz-Expires=604801");
        assert!(matches!(
            verify("PUT", &week_and_a_second, &headers, &credentials, at(SIGNED_AT)),
            Err(AuthError::MalformedQuery(_))
        ));
    }

    #[test]
    fn presigned_checksum_and_type_headers_are_signed_with_their_values() {
        let credentials = credentials(None);
        let checksum = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";
        let signed =
            [("host", "127.0.0.1:8000"), ("content-type", "text/plain"), ("x-amz-checksum-sha256", checksum)];
        let url = presign(
            "PUT",
            "/s3/s3file-dev/a.txt?x-id=PutObject",
            &signed,
            &credentials,
            Duration::from_secs(60),
        );
        let now = at(SIGNED_AT + 1);
        assert_eq!(verify("PUT", &url, &header_map(&signed), &credentials, now), Ok(()));
        let other_type = [signed[0], ("content-type", "text/html"), signed[2]];
        assert_eq!(
            verify("PUT", &url, &header_map(&other_type), &credentials, now),
            Err(AuthError::SignatureMismatch)
        );
        let other_checksum = [signed[0], signed[1], ("x-amz-checksum-sha256", "AAAA")];
        assert_eq!(
            verify("PUT", &url, &header_map(&other_checksum), &credentials, now),
            Err(AuthError::SignatureMismatch)
        );
    }

    #[test]
    fn a_presigned_url_carries_the_stores_session_token_or_none() {
        let with_token = credentials(Some("session-token"));
        let headers = header_map(&[("host", "127.0.0.1:8000"), ("content-length", "5242880")]);
        let now = at(SIGNED_AT + 1);
        let url = part_url(&with_token);
        assert!(url.contains("X-Amz-Security-Token=session-token"), "{url}");
        assert_eq!(verify("PUT", &url, &headers, &with_token, now), Ok(()));
        assert_eq!(
            verify("PUT", &url, &headers, &credentials(Some("another")), now),
            Err(AuthError::InvalidToken)
        );
        assert_eq!(verify("PUT", &url, &headers, &credentials(None), now), Err(AuthError::InvalidToken));
        let without = part_url(&credentials(None));
        assert_eq!(verify("PUT", &without, &headers, &with_token, now), Err(AuthError::InvalidToken));
    }

    #[test]
    fn query_parameters_are_checked_before_the_signature() {
        let credentials = credentials(None);
        let url = part_url(&credentials);
        let headers = header_map(&[("host", "127.0.0.1:8000"), ("content-length", "5242880")]);
        let now = at(SIGNED_AT + 1);
        let check = |url: &str| verify("PUT", url, &headers, &credentials, now);
        assert!(matches!(
            check(&url.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1")),
            Err(AuthError::MalformedQuery(_))
        ));
        assert!(matches!(
            check(&url.replace("&X-Amz-Date=", "&X-Amz-Nothing=")),
            Err(AuthError::MalformedQuery(_))
        ));
        assert!(matches!(check(&format!("{url}&X-Amz-Expires=60")), Err(AuthError::MalformedQuery(_))));
        assert!(matches!(check(&url.replace("%2Fs3%2F", "%2Fec2%2F")), Err(AuthError::MalformedQuery(_))));
        assert!(matches!(
            check(&url.replace("%2F20260101%2F", "%2F20251231%2F")),
            Err(AuthError::MalformedQuery(_))
        ));
        assert!(matches!(
            check(&url.replace("content-length%3Bhost", "content-length")),
            Err(AuthError::MalformedQuery(_))
        ));
        let mut with_header = headers.clone();
        with_header.insert("authorization", HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=x"));
        assert_eq!(verify("PUT", &url, &with_header, &credentials, now), Err(AuthError::BothMechanisms));
        assert_eq!(verify("PUT", PART, &headers, &credentials, now), Err(AuthError::Missing));
    }

    /// What the SDK's header signature looks like, for the header checks.
    fn header_signed(credentials: &sigv4::Credentials, extra: &[(&str, &str)]) -> HeaderMap {
        let mut settings = s3_settings();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let identity: Identity = aws_credential_types::Credentials::new(
            &credentials.access_key_id,
            credentials.secret_access_key.as_str(),
            None,
            None,
            "test",
        )
        .into();
        let params = SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(at(SIGNED_AT))
            .settings(settings)
            .build()
            .unwrap();
        let mut headers = vec![("host", "127.0.0.1:8000")];
        headers.extend_from_slice(extra);
        let request = SignableRequest::new(
            "DELETE",
            "http://127.0.0.1:8000/s3/s3file-dev/a.txt?uploadId=0123",
            headers.iter().copied(),
            SignableBody::UnsignedPayload,
        )
        .unwrap();
        let (instructions, _) = sign(request, &params.into()).unwrap().into_parts();
        let mut map = header_map(&headers);
        for (name, value) in instructions.headers() {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn header_signatures_verify_and_cover_every_amz_header() {
        let credentials = credentials(None);
        let path = "/s3/s3file-dev/a.txt?uploadId=0123";
        let now = at(SIGNED_AT + 5);
        let headers = header_signed(&credentials, &[("x-amz-meta-a", "1")]);
        assert_eq!(verify("DELETE", path, &headers, &credentials, now), Ok(()));
        assert_eq!(
            verify("DELETE", "/s3/s3file-dev/a.txt?uploadId=0124", &headers, &credentials, now),
            Err(AuthError::SignatureMismatch)
        );
        assert_eq!(
            verify("DELETE", path, &headers, &credentials, at(SIGNED_AT + 3600)),
            Err(AuthError::Skewed)
        );
        let mut added = headers.clone();
        added.insert("x-amz-meta-b", HeaderValue::from_static("2"));
        assert_eq!(
            verify("DELETE", path, &added, &credentials, now),
            Err(AuthError::HeadersNotSigned("x-amz-meta-b".to_owned()))
        );
    }
}
