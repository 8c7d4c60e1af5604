//! The form entries that stand in for an uploaded file input in the native submission. They
//! carry django-s3file's names, so its middleware and our finalize endpoint read them alike.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

/// `(name, value)` pairs for the upgraded field `field`, in the order they join the form:
/// `s3file` naming the field, the field once per key in file order, then the folder signature.
pub fn hidden_fields(field: &str, keys: &[String], signature: &str) -> Vec<(String, String)> {
    let mut entries = Vec::with_capacity(keys.len() + 2);
    entries.push(("s3file".to_owned(), field.to_owned()));
    entries.extend(keys.iter().map(|key| (field.to_owned(), key.clone())));
    let mut signature_name = field.to_owned();
    signature_name.push_str("-s3f-signature");
    entries.push((signature_name, signature.to_owned()));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_becomes_its_name_its_keys_and_its_signature() {
        let keys = ["tmp/s3file/abc/b.txt".to_owned(), "tmp/s3file/abc/a.txt".to_owned()];
        let pairs = |entries: &[(&str, &str)]| -> Vec<(String, String)> {
            entries.iter().map(|&(name, value)| (name.to_owned(), value.to_owned())).collect()
        };
        assert_eq!(
            hidden_fields("attachment", &keys, "1767225600.Zm9v"),
            pairs(&[
                ("s3file", "attachment"),
                ("attachment", "tmp/s3file/abc/b.txt"),
                ("attachment", "tmp/s3file/abc/a.txt"),
                ("attachment-s3f-signature", "1767225600.Zm9v"),
            ])
        );
    }
}
