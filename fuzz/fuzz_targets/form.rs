//! What arrives from outside as a form or a setting: the bodies finalize reads, the `accept`
//! attribute, and the TOML settings file. The first line says what the rest is:
//!
//! - `multipart`: a multipart form: a Content-Type header on the next line, then the body. It is
//!   read through axum's `Multipart`, as finalize reads it, file names sanitized as finalize does.
//! - `accept`: an `accept` attribute, then a file name and a media type, one a line.
//! - `settings`: a settings file.
//! - anything else: the whole input is an `application/x-www-form-urlencoded` body, read as
//!   finalize reads it and checked as finalize checks its keys and signatures.
#![no_main]

use axum::body::Body;
use axum::extract::{FromRequest, Multipart};
use axum::http::{header, HeaderValue, Request};
use libfuzzer_sys::fuzz_target;
use s3file_fuzz::{assert_plain_name, block_on, lines, text, FOLDER_ID, NOW, SECRET, UPLOAD_PATH};
use s3file_signer::accept::{essence, extension, is_unknown_type, types_of_extension, Accept};
use s3file_signer::config_file::args_from_toml;
use s3file_signer::folder_token::FolderSigner;
use s3file_signer::keys::{sanitize_file_name, UploadKey};
use time::OffsetDateTime;

fuzz_target!(|data: &[u8]| {
    let (kind, rest) = first_line(data);
    match kind {
        b"multipart" => multipart(rest),
        b"accept" => accept(rest),
        b"settings" => settings(rest),
        _ => urlencoded(data),
    }
});

/// The first line and the rest.
fn first_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

fn urlencoded(body: &[u8]) {
    let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) else { return };
    // Proxy mode and the Rust layer pass the other fields on re-encoded: nothing may change.
    let encoded = serde_urlencoded::to_string(&fields).expect("pairs of strings encode");
    let decoded: Vec<(String, String)> =
        serde_urlencoded::from_str(&encoded).expect("its own encoding decodes");
    assert_eq!(decoded, fields, "re-encoded as {encoded:?}");

    // finalize's check: each field named by `s3file` has one signature, and each of its keys
    // must parse and lie in a folder the signature verifies for.
    let values = |name: &str| -> Vec<&str> {
        fields.iter().filter(|(field, _)| field == name).map(|(_, value)| value.as_str()).collect()
    };
    let signer = FolderSigner::new(&[SECRET]);
    let now = OffsetDateTime::from_unix_timestamp(NOW).expect("a valid time");
    for field in values("s3file") {
        let [signature] = values(&format!("{field}-s3f-signature"))[..] else { continue };
        for raw in values(field) {
            let Ok(key) = UploadKey::parse(UPLOAD_PATH, raw) else { continue };
            assert_plain_name(key.name());
            if signer.verify(signature, field, key.folder(), now).is_ok() {
                // The seeds' token, signed for this field and folder only.
                assert_eq!((field, key.folder()), ("file", format!("{UPLOAD_PATH}/{FOLDER_ID}").as_str()));
            }
        }
    }
}

fn multipart(data: &[u8]) {
    let (content_type, body) = first_line(data);
    let Ok(content_type) = HeaderValue::from_bytes(content_type) else { return };
    let request = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_vec()))
        .expect("a request with a valid header");
    block_on(async {
        let Ok(mut multipart) = Multipart::from_request(request, &()).await else { return };
        while let Ok(Some(mut part)) = multipart.next_field().await {
            let _ = (part.name(), part.content_type());
            match part.file_name().map(str::to_owned) {
                Some(file_name) => {
                    if let Ok(name) = sanitize_file_name(&file_name) {
                        assert_plain_name(&name);
                    }
                    while let Ok(Some(_)) = part.chunk().await {}
                }
                None => {
                    let _ = part.text().await;
                }
            }
        }
    });
}

fn accept(data: &[u8]) {
    let lines = lines(data);
    let (value, file_name, media_type) = (text(lines.first()), text(lines.get(1)), text(lines.get(2)));
    let Ok(Some(rule)) = Accept::parse(&value) else { return };
    let allowed = rule.allows(&file_name, &media_type);
    // Parameters after `;` and the type's case never matter.
    assert_eq!(rule.allows(&file_name, &format!("{media_type}; charset=utf-8")), allowed);
    assert_eq!(rule.allows(&file_name, &media_type.to_ascii_uppercase()), allowed);
    let tokens: Vec<String> = value.split(',').map(|token| token.trim().to_ascii_lowercase()).collect();
    let any = tokens.iter().any(|token| token == "*/*");
    if any {
        assert!(allowed, "{value:?} refused {file_name:?} of type {media_type:?}");
    }
    // The name counts whatever the type: it ends with one of the extensions, compared
    // ASCII-case-insensitively as browsers compare them, or its extension is of a listed type.
    let lower_name = file_name.to_ascii_lowercase();
    let by_extension = tokens
        .iter()
        .filter(|token| token.len() > 1 && token.starts_with('.'))
        .any(|extension| lower_name.ends_with(extension.as_str()));
    let named_types =
        extension(&file_name).map(|extension| types_of_extension(&extension)).unwrap_or_default();
    let by_type = named_types.iter().any(|named| {
        tokens.iter().any(|token| match token.strip_suffix('*') {
            Some(prefix) if prefix.ends_with('/') => named.starts_with(prefix),
            _ => token == named,
        })
    });
    let by_name = any || by_extension || by_type;
    assert!(!allowed || by_name, "{value:?} allowed the name {file_name:?}");
    // Without a type, only the name counts; an opaque type is no type.
    assert_eq!(rule.allows(&file_name, ""), by_name, "{value:?} and the file name {file_name:?} of no type");
    assert_eq!(rule.allows(&file_name, "application/octet-stream"), by_name);
    // A type that says something agrees with the name.
    let announced = essence(&media_type);
    if allowed && !any && !is_unknown_type(&announced) {
        assert!(
            named_types.contains(&announced.as_str()),
            "{value:?} allowed {file_name:?} announced as {media_type:?}"
        );
    }
    if let Err(why) = rule.check(&file_name, &media_type) {
        assert!(!allowed && (why.contains("rename the file") || why.contains("choose")), "{why}");
    }
    // The rule reads back from its own text.
    assert_eq!(Accept::parse(&rule.to_string()), Ok(Some(rule.clone())), "{value:?} shown as {rule}");
}

fn settings(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(args) = args_from_toml(text) else { return };
    assert_eq!(args.len() % 2, 0, "{args:?}");
    for pair in args.chunks(2) {
        let flag = pair[0].strip_prefix("--").unwrap_or_else(|| panic!("{:?} is not a flag", pair[0]));
        assert!(
            !flag.is_empty()
                && flag.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{flag:?} is not a flag name"
        );
        assert_ne!(flag, "config", "a settings file named another one");
    }
}
