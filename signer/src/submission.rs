//! What a submitted form asks finalize to vouch for, checked whole before anything moves.
//!
//! Sans-IO: the form's text fields and the names of the file parts it carried come in, and out
//! comes either a [`Submission`] (the verified keys of every field `s3file` lists, and the fields
//! that pass through) or a [`Refusal`] saying why nothing may move. Finalize in every mode (the
//! route, [`S3FileLayer`](crate::integration::S3FileLayer), proxy mode) goes through here.

use std::collections::BTreeSet;
use std::fmt;

use time::OffsetDateTime;

use crate::folder_token::FolderSigner;
use crate::keys::UploadKey;

/// The field that lists the upgraded file fields, django-s3file's name.
pub const LIST_FIELD: &str = "s3file";
/// Suffix of the field that carries a field's folder signature (written by the widget).
pub const SIGNATURE_SUFFIX: &str = "-s3f-signature";
/// Suffix of the fields proxy mode writes for the application: never taken from a client.
pub const DESCRIPTION_SUFFIX: &str = "-s3file";
/// Prefix of the headers the signer writes for an application (proxy mode): never taken from a
/// client.
pub const HEADER_PREFIX: &str = "x-s3file-";
/// Most keys one form may finalize.
pub const MAX_FILES: usize = 1000;

/// A form finalize may act on: every listed field verified.
#[derive(Debug)]
pub struct Submission {
    pub fields: Vec<VerifiedField>,
    /// The form's other fields, in the order they came.
    pub passthrough: Vec<(String, String)>,
}

/// The keys of one listed field, each inside a folder whose signature verified for this field.
#[derive(Debug)]
pub struct VerifiedField {
    pub name: String,
    pub keys: Vec<UploadKey>,
}

/// Why a form is refused; nothing moves.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The form is malformed or ambiguous (400).
    BadRequest(String),
    /// A key or signature does not verify (403).
    Forbidden(String),
    /// More keys than one form may carry (413).
    TooMany,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::BadRequest(message) | Refusal::Forbidden(message) => f.write_str(message),
            Refusal::TooMany => write!(f, "at most {MAX_FILES} files per form"),
        }
    }
}

/// The first header named like one the signer writes, if a request carries any.
pub fn signer_header<'a>(
    mut names: impl Iterator<Item = &'a http::HeaderName>,
) -> Option<&'a http::HeaderName> {
    // Header names are lower-case in `http`, whatever the client sent.
    names.find(|name| name.as_str().starts_with(HEADER_PREFIX))
}

fn bad(message: String) -> Refusal {
    Refusal::BadRequest(message)
}

/// Checks a whole form. `file_fields` names the parts that carried files (the no-JavaScript
/// fallback), which the signer stores itself.
pub fn check(
    fields: Vec<(String, String)>,
    file_fields: &[&str],
    upload_path: &str,
    folders: &FolderSigner,
    now: OffsetDateTime,
) -> Result<Submission, Refusal> {
    if let Some((name, _)) = fields.iter().find(|(name, _)| name.ends_with(DESCRIPTION_SUFFIX)) {
        return Err(bad(format!(
            "`{name}`: names ending in `{DESCRIPTION_SUFFIX}` are written by the signer and cannot be sent"
        )));
    }
    let listed = listed_fields(&fields)?;
    for file_field in file_fields {
        if listed.contains(file_field) {
            return Err(bad(format!("`{file_field}` carries both files and uploaded keys")));
        }
        if fields.iter().any(|(name, _)| name == file_field) {
            return Err(bad(format!("`{file_field}` carries both files and text")));
        }
    }
    let orphan = fields
        .iter()
        .find(|(name, _)| name.strip_suffix(SIGNATURE_SUFFIX).is_some_and(|field| !listed.contains(&field)));
    if let Some((name, _)) = orphan {
        return Err(bad(format!("`{name}` belongs to no field listed in `{LIST_FIELD}`")));
    }

    let mut verified = Vec::with_capacity(listed.len());
    let mut seen_keys = BTreeSet::new();
    for field in &listed {
        let keys = verify_field(&fields, field, upload_path, folders, now, &mut seen_keys)?;
        verified.push(VerifiedField { name: (*field).to_owned(), keys });
    }
    let consumed = |name: &str| {
        name == LIST_FIELD
            || listed.contains(&name)
            || name.strip_suffix(SIGNATURE_SUFFIX).is_some_and(|field| listed.contains(&field))
    };
    let passthrough = fields.iter().filter(|(name, _)| !consumed(name)).cloned().collect();
    Ok(Submission { fields: verified, passthrough })
}

/// The fields `s3file` lists, each once and none of them a name s3file itself uses.
fn listed_fields(fields: &[(String, String)]) -> Result<Vec<&str>, Refusal> {
    let mut listed: Vec<&str> = Vec::new();
    for (_, field) in fields.iter().filter(|(name, _)| name == LIST_FIELD) {
        let reserved = field.is_empty()
            || field == LIST_FIELD
            || field.ends_with(SIGNATURE_SUFFIX)
            || field.ends_with(DESCRIPTION_SUFFIX);
        if reserved {
            return Err(bad(format!("`{LIST_FIELD}` lists {field:?}, which is not a file field's name")));
        }
        if listed.contains(&field.as_str()) {
            return Err(bad(format!("`{LIST_FIELD}` lists `{field}` twice")));
        }
        listed.push(field);
    }
    Ok(listed)
}

fn values<'a>(fields: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    fields.iter().filter(move |(field, _)| field == name).map(|(_, value)| value.as_str())
}

/// One listed field: at least one key, exactly one signature, and every key inside a folder
/// that signature covers for this field.
fn verify_field(
    fields: &[(String, String)],
    field: &str,
    upload_path: &str,
    folders: &FolderSigner,
    now: OffsetDateTime,
    seen_keys: &mut BTreeSet<String>,
) -> Result<Vec<UploadKey>, Refusal> {
    let signature_name = format!("{field}{SIGNATURE_SUFFIX}");
    let signatures: Vec<&str> = values(fields, &signature_name).collect();
    let [signature] = signatures.as_slice() else {
        return Err(bad(format!("expected exactly one `{signature_name}` field")));
    };
    let mut keys = Vec::new();
    for raw in values(fields, field) {
        if seen_keys.len() == MAX_FILES {
            return Err(Refusal::TooMany);
        }
        if !seen_keys.insert(raw.to_owned()) {
            return Err(bad(format!("`{field}`: the key {raw:?} is listed twice")));
        }
        let key = UploadKey::parse(upload_path, raw)
            .map_err(|error| Refusal::Forbidden(format!("`{field}`: {raw:?}: {error}")))?;
        folders
            .verify(signature, field, key.folder(), now)
            .map_err(|error| Refusal::Forbidden(format!("`{field}`: {error}")))?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(bad(format!("`{LIST_FIELD}` lists `{field}`, but the form carries no key for it")));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);
    const LATER: OffsetDateTime = datetime!(2026-12-01 11:00 UTC);
    const FOLDER: &str = "tmp/s3file/AAECAwQFBgcICQoLDA0ODw";
    const OTHER_FOLDER: &str = "tmp/s3file/EBESExQVFhcYGRobHB0eHw";

    fn folders() -> FolderSigner {
        FolderSigner::new(&[b"a secret that is long enough for the tests"])
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
    }

    fn run(pairs: &[(&str, &str)], file_fields: &[&str]) -> Result<Submission, Refusal> {
        check(form(pairs), file_fields, "tmp/s3file", &folders(), NOW)
    }

    fn refusal(pairs: &[(&str, &str)], file_fields: &[&str]) -> Refusal {
        run(pairs, file_fields).expect_err("the form is refused")
    }

    #[test]
    fn a_signed_form_verifies_and_keeps_its_other_fields() {
        let signature = folders().sign("file", FOLDER, LATER);
        let a = format!("{FOLDER}/a.txt");
        let b = format!("{FOLDER}/b.txt");
        let submission = run(
            &[
                ("title", "Holiday"),
                ("s3file", "file"),
                ("file", &a),
                ("file", &b),
                ("file-s3f-signature", &signature),
                ("tags", "x"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(submission.fields.len(), 1);
        let names: Vec<&str> = submission.fields[0].keys.iter().map(UploadKey::name).collect();
        assert_eq!(names, ["a.txt", "b.txt"]);
        assert_eq!(submission.passthrough, form(&[("title", "Holiday"), ("tags", "x")]));
    }

    #[test]
    fn malformed_and_ambiguous_forms_are_bad_requests() {
        let signature = folders().sign("file", FOLDER, LATER);
        let key = format!("{FOLDER}/a.txt");
        let base = [("s3file", "file"), ("file", key.as_str()), ("file-s3f-signature", signature.as_str())];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            pairs
        };
        // (the form, the names of its file parts, what the refusal says)
        type Case<'a> = (Vec<(&'a str, &'a str)>, &'a [&'a str], &'a str);
        let cases: Vec<Case> = vec![
            (with(&[("s3file", "file")]), &[], "twice"),
            (with(&[("s3file", "avatar")]), &[], "avatar"),
            (with(&[("s3file", "avatar"), ("avatar-s3f-signature", "x")]), &[], "no key"),
            (with(&[("file", "")]), &[], "listed twice"),
            (with(&[("file-s3file", "{}")]), &[], "written by the signer"),
            (vec![("note-s3file", "{}")], &[], "written by the signer"),
            (with(&[("s3file", "s3file")]), &[], "not a file field"),
            (with(&[("s3file", "x-s3f-signature")]), &[], "not a file field"),
            (with(&[("s3file", "")]), &[], "not a file field"),
            (with(&[("other-s3f-signature", "x")]), &[], "belongs to no field"),
            (with(&[]), &["file"], "both files and uploaded keys"),
            (vec![("doc", "media/x")], &["doc"], "both files and text"),
            (vec![("s3file", "file"), ("file", key.as_str())], &[], "exactly one"),
        ];
        for (pairs, file_fields, expected) in cases {
            let mut pairs = pairs;
            // `("file", "")` stands for the same key listed again.
            for pair in &mut pairs {
                if *pair == ("file", "") {
                    *pair = ("file", key.as_str());
                }
            }
            match refusal(&pairs, file_fields) {
                Refusal::BadRequest(message) => assert!(message.contains(expected), "{pairs:?}: {message}"),
                other => panic!("{pairs:?}: expected a bad request, got {other:?}"),
            }
        }
    }

    #[test]
    fn keys_outside_their_signed_folder_are_forbidden() {
        let signature = folders().sign("file", FOLDER, LATER);
        let foreign = format!("{OTHER_FOLDER}/a.txt");
        let traversal = format!("{FOLDER}/../a.txt");
        for key in [foreign.as_str(), traversal.as_str(), "media/a.txt"] {
            let refused =
                refusal(&[("s3file", "file"), ("file", key), ("file-s3f-signature", &signature)], &[]);
            assert!(matches!(refused, Refusal::Forbidden(_)), "{key}: {refused:?}");
        }
        let other_field = folders().sign("avatar", FOLDER, LATER);
        let key = format!("{FOLDER}/a.txt");
        let refused =
            refusal(&[("s3file", "file"), ("file", &key), ("file-s3f-signature", &other_field)], &[]);
        assert!(matches!(refused, Refusal::Forbidden(_)));
    }

    #[test]
    fn the_number_of_keys_is_bounded() {
        let signature = folders().sign("file", FOLDER, LATER);
        let keys: Vec<String> = (0..=MAX_FILES).map(|n| format!("{FOLDER}/{n}.txt")).collect();
        let mut pairs = vec![("s3file", "file"), ("file-s3f-signature", signature.as_str())];
        pairs.extend(keys.iter().map(|key| ("file", key.as_str())));
        assert_eq!(refusal(&pairs, &[]), Refusal::TooMany);
    }

    #[test]
    fn a_form_without_s3file_fields_passes_through() {
        let submission = run(&[("title", "x"), ("body", "y")], &["attachment"]).unwrap();
        assert!(submission.fields.is_empty());
        assert_eq!(submission.passthrough, form(&[("title", "x"), ("body", "y")]));
    }
}
