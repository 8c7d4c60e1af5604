//! django-s3file's markup: a file input rendered with a presigned POST policy in its attributes
//!
//! ```html
//! <input type="file" name="file" class="s3file" data-url="https://bucket.s3.amazonaws.com/"
//!        data-fields-key="tmp/s3file/AbC/${filename}" data-fields-policy="…" …
//!        data-s3f-signature="…">
//! ```
//!
//! Each `data-fields-<name>` is a field of the upload, sent in attribute order, followed by
//! `success_action_status=201` and the file's `Content-Type`, as django-s3file's own script does.
//! `widget/js/effects.js` (`markupPost`) reads the fields from the attributes; the key S3 will
//! answer is predicted here.

use alloc::string::String;

/// The key S3 will store `file_name` under: the `key` field with `${filename}` replaced.
///
/// By hand rather than with `str::replace`, whose substring search is larger than the rest of
/// this module.
pub fn predicted_key(template: &str, file_name: &str) -> String {
    const PLACEHOLDER: &str = "${filename}";
    let mut key = String::with_capacity(template.len() + file_name.len());
    // `template[copied..index]` is copied once a placeholder or the end is found.
    let mut copied = 0;
    let mut index = 0;
    while index < template.len() {
        if template.get(index..).is_some_and(|rest| rest.starts_with(PLACEHOLDER)) {
            key.push_str(template.get(copied..index).unwrap_or_default());
            key.push_str(file_name);
            index += PLACEHOLDER.len();
            copied = index;
        } else {
            index += 1;
        }
    }
    key.push_str(template.get(copied..).unwrap_or_default());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_template_takes_the_file_name() {
        assert_eq!(predicted_key("tmp/s3file/AbC/${filename}", "a b.txt"), "tmp/s3file/AbC/a b.txt");
        assert_eq!(predicted_key("tmp/s3file/AbC/fixed", "a.txt"), "tmp/s3file/AbC/fixed");
        assert_eq!(predicted_key("${filename}/é/${filename}", "x"), "x/é/x");
        assert_eq!(predicted_key("", "x"), "");
    }
}
