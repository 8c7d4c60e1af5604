//! The form entries that stand in for an uploaded file input in the native submission. They
//! carry django-s3file's names, so its middleware and our finalize endpoint read them alike.

use alloc::borrow::ToOwned;

/// The entries for the upgraded field `field`, each given to `add(name, value)` in the order
/// they join the form: `s3file` naming the field, the field once per key in file order, then
/// the folder signature.
pub fn hidden_fields<'a>(
    field: &str,
    keys: impl Iterator<Item = &'a str>,
    signature: &str,
    mut add: impl FnMut(&str, &str),
) {
    add("s3file", field);
    for key in keys {
        add(field, key);
    }
    let mut signature_name = field.to_owned();
    signature_name.push_str("-s3f-signature");
    add(&signature_name, signature);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_becomes_its_name_its_keys_and_its_signature() {
        let keys = ["tmp/s3file/abc/b.txt", "tmp/s3file/abc/a.txt"];
        let mut entries = Vec::new();
        hidden_fields("attachment", keys.into_iter(), "1767225600.Zm9v", |name, value| {
            entries.push((name.to_owned(), value.to_owned()));
        });
        let expected = [
            ("s3file", "attachment"),
            ("attachment", "tmp/s3file/abc/b.txt"),
            ("attachment", "tmp/s3file/abc/a.txt"),
            ("attachment-s3f-signature", "1767225600.Zm9v"),
        ];
        assert_eq!(entries, expected.map(|(name, value)| (name.to_owned(), value.to_owned())));
    }
}
