//! Which file inputs are upgraded, and where their upload instructions come from.

/// Where the signer lives when `data-s3file` is present but empty.
pub const DEFAULT_SIGN_URL: &str = "/s3file/sign";

/// Where an upgraded input gets its upload instructions.
#[derive(Debug, PartialEq, Eq)]
pub enum Source<'a> {
    /// From the signer at this URL, asked at submit.
    Signer(&'a str),
    /// From the input's own attributes, as django-s3file renders them (`data-url`,
    /// `data-fields-*`, `data-s3f-signature`): no signer is asked.
    Presigned,
}

/// Where a file input gets its upload instructions; `None` when it is not upgraded.
///
/// `presigned` tells whether the input carries django-s3file's markup (class `s3file` and
/// `data-url`); it wins, since its policy was signed for exactly this input. Otherwise the
/// `data-s3file` attribute of the input, else of its form, names the signer: the input's own
/// wins, so one form can send different inputs to different signers.
pub fn source<'a>(
    presigned: bool,
    input_attribute: Option<&'a str>,
    form_attribute: Option<&'a str>,
) -> Option<Source<'a>> {
    if presigned {
        return Some(Source::Presigned);
    }
    let url = input_attribute.or(form_attribute)?.trim_ascii();
    if url.is_empty() {
        return Some(Source::Signer(DEFAULT_SIGN_URL));
    }
    Some(Source::Signer(url))
}

/// The URL of the signer's endpoint `name` (`parts`, `complete`, `abort`) next to its sign
/// endpoint `sign_url`: its last path segment replaced, the query dropped.
pub fn sibling(sign_url: &str, name: &str) -> alloc::string::String {
    // By bytes, without string searching or slicing that could panic: either would bring the
    // formatting of panic messages into the wasm. A `/` is one byte in UTF-8, so the base ends
    // on a character boundary.
    let mut base = 0;
    for (index, byte) in sign_url.bytes().enumerate() {
        match byte {
            b'?' | b'#' => break,
            b'/' => base = index + 1,
            _ => {}
        }
    }
    crate::text::concat(&[sign_url.get(..base).unwrap_or_default(), name])
}

#[cfg(test)]
mod tests {
    #[test]
    fn sibling_endpoints_sit_next_to_the_sign_endpoint() {
        assert_eq!(sibling("/s3file/sign", "parts"), "/s3file/parts");
        assert_eq!(
            sibling("https://up.example/api/s3file/sign?v=2", "complete"),
            "https://up.example/api/s3file/complete"
        );
        assert_eq!(sibling("sign", "abort"), "abort");
        assert_eq!(sibling("/é/s3file/sign#/x", "parts"), "/é/s3file/parts");
    }

    use super::*;

    #[test]
    fn without_the_attribute_the_input_is_left_alone() {
        assert_eq!(source(false, None, None), None);
    }

    #[test]
    fn an_empty_attribute_means_the_default_endpoint() {
        assert_eq!(source(false, Some(""), None), Some(Source::Signer("/s3file/sign")));
        assert_eq!(source(false, None, Some("")), Some(Source::Signer("/s3file/sign")));
        assert_eq!(source(false, None, Some("  ")), Some(Source::Signer("/s3file/sign")));
    }

    #[test]
    fn the_form_attribute_applies_to_its_inputs() {
        assert_eq!(
            source(false, None, Some("https://sign.example/s3")),
            Some(Source::Signer("https://sign.example/s3"))
        );
    }

    #[test]
    fn the_input_attribute_wins_over_the_form_attribute() {
        assert_eq!(source(false, Some("/a/sign"), Some("/b/sign")), Some(Source::Signer("/a/sign")));
        // Even when empty: the input asked for the default signer explicitly.
        assert_eq!(source(false, Some(""), Some("/b/sign")), Some(Source::Signer("/s3file/sign")));
    }

    #[test]
    fn surrounding_whitespace_is_not_part_of_the_url() {
        assert_eq!(source(false, Some(" /sign \n"), None), Some(Source::Signer("/sign")));
    }

    #[test]
    fn django_s3file_markup_needs_no_signer() {
        assert_eq!(source(true, None, None), Some(Source::Presigned));
        assert_eq!(source(true, Some("/sign"), Some("/sign")), Some(Source::Presigned));
    }
}
