//! The signer's upload rules: `S3FILE_ACCEPT`, `S3FILE_FIELDS` and `S3FILE_MAX_FILE_SIZE` as
//! `FieldRules::parse` reads them, a page's `accept` and `max_size` narrowing a field's rule, and
//! the check of one file against the result.
//!
//! Input lines:
//! 1. `S3FILE_ACCEPT`;
//! 2. `S3FILE_FIELDS`, JSON on one line;
//! 3. `S3FILE_MAX_FILE_SIZE` in bytes (not a number: 1000);
//! 4. the form field signed for;
//! 5. the page's `accept`;
//! 6. the page's `max_size` (not a number: none);
//! 7. the file name, 8. its media type, 9. its size in bytes (not a number: 0).
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3file_fuzz::{lines, text};
use s3file_signer::accept::{essence, extension, is_unknown_type, types_of_extension, Accept};
use s3file_signer::field_rules::{FieldRules, Refusal};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let lines = lines(data);
    let line = |n: usize| text(lines.get(n));
    let number = |n: usize| line(n).trim().parse::<u64>().ok();
    let (accept, fields, max_file_size) = (line(0), line(1), number(2).unwrap_or(1000));
    let (field, page_accept, page_max) = (line(3), line(4), number(5));
    let (name, media_type, size) = (line(6), line(7), number(8).unwrap_or(0));

    let rules = match FieldRules::parse(Some(&accept), Some(&fields), max_file_size) {
        Ok(rules) => rules,
        Err(errors) => {
            assert!(!errors.is_empty());
            for error in &errors {
                assert!(
                    error.starts_with("S3FILE_ACCEPT") || error.starts_with("S3FILE_FIELDS"),
                    "an error that names no setting: {error}"
                );
            }
            if Accept::parse(&accept).is_err() {
                assert!(errors.iter().any(|error| error.starts_with("S3FILE_ACCEPT")), "{errors:?}");
            }
            return;
        }
    };
    assert!(Accept::parse(&accept).is_ok(), "S3FILE_ACCEPT {accept:?} was taken");
    assert_eq!(rules.default_rule().max_size(), max_file_size);

    // What the JSON says of the field, read independently of the parser: a rule replaces the
    // default's size only where it gives one.
    let object = match fields.trim() {
        "" => serde_json::Map::new(),
        text => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => object,
            other => panic!("S3FILE_FIELDS {fields:?} was taken, but it is {other:?}"),
        },
    };
    let rule = rules.for_field(&field);
    match object.get(&field) {
        None => assert_eq!(rule, rules.default_rule()),
        Some(spec) => {
            let max = spec.get("max_size").map(|size| size.as_u64().expect("a taken max_size is a number"));
            assert_eq!(rule.max_size(), max.unwrap_or(max_file_size));
            if spec.get("accept").is_none() {
                assert_eq!(rule.accepts(), rules.default_rule().accepts());
            }
        }
    }
    // Taken settings read the same once written out again.
    let rewritten = serde_json::to_string(&object).expect("a JSON object prints");
    assert_eq!(FieldRules::parse(Some(&accept), Some(&rewritten), max_file_size), Ok(rules.clone()));

    let Ok(narrowed) = rule.narrowed(&page_accept, page_max) else {
        assert!(Accept::parse(&page_accept).is_err(), "the page's accept {page_accept:?} was refused");
        return;
    };
    assert!(narrowed.max_size() <= rule.max_size());
    assert!(narrowed.max_size() <= page_max.unwrap_or(u64::MAX));

    let outcome = narrowed.check(&name, &media_type, size);
    if outcome.is_ok() {
        // A page only narrows: what its rule lets through, the signer's own rule does.
        assert_eq!(rule.check(&name, &media_type, size), Ok(()), "the page widened the rule");
        if let Ok(Some(page)) = Accept::parse(&page_accept) {
            assert!(page.allows(&name, &media_type));
        }
        let announced = essence(&media_type);
        if !narrowed.accepts().is_empty() && !is_unknown_type(&announced) {
            let named = extension(&name).map(|extension| types_of_extension(&extension)).unwrap_or_default();
            assert!(named.contains(&announced.as_str()), "{name:?} stored as {media_type:?}");
        }
    }
    match outcome {
        Ok(()) => assert!(size <= narrowed.max_size()),
        Err(Refusal::TooLarge(message)) => {
            assert!(size > narrowed.max_size());
            assert!(message.starts_with(&name), "{message}");
        }
        Err(Refusal::NotAccepted(message)) => {
            assert!(size <= narrowed.max_size());
            assert!(message.starts_with(&format!("{name} (")), "{message}");
            assert!(message.contains("is not an accepted type"), "{message}");
            assert!(narrowed.accepts().iter().any(|accept| !accept.allows(&name, &media_type)));
        }
    }
});
