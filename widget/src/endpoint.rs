//! Which file inputs opt in, and where they get their uploads signed.

/// Where the signer lives when `data-s3file` is present but empty.
pub const DEFAULT_SIGN_URL: &str = "/s3file/sign";

/// The sign endpoint for a file input, from the `data-s3file` attributes of the input and of
/// its form; `None` when neither carries the attribute, i.e. the input is not upgraded.
///
/// The input's own attribute wins, so one form can send different inputs to different signers.
pub fn sign_url<'a>(input_attribute: Option<&'a str>, form_attribute: Option<&'a str>) -> Option<&'a str> {
    let url = input_attribute.or(form_attribute)?.trim_ascii();
    if url.is_empty() {
        return Some(DEFAULT_SIGN_URL);
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_attribute_the_input_is_left_alone() {
        assert_eq!(sign_url(None, None), None);
    }

    #[test]
    fn an_empty_attribute_means_the_default_endpoint() {
        assert_eq!(sign_url(Some(""), None), Some("/s3file/sign"));
        assert_eq!(sign_url(None, Some("")), Some("/s3file/sign"));
        assert_eq!(sign_url(None, Some("  ")), Some("/s3file/sign"));
    }

    #[test]
    fn the_form_attribute_applies_to_its_inputs() {
        assert_eq!(sign_url(None, Some("https://sign.example/s3")), Some("https://sign.example/s3"));
    }

    #[test]
    fn the_input_attribute_wins_over_the_form_attribute() {
        assert_eq!(sign_url(Some("/a/sign"), Some("/b/sign")), Some("/a/sign"));
        // Even when empty: the input asked for the default signer explicitly.
        assert_eq!(sign_url(Some(""), Some("/b/sign")), Some("/s3file/sign"));
    }

    #[test]
    fn surrounding_whitespace_is_not_part_of_the_url() {
        assert_eq!(sign_url(Some(" /sign \n"), None), Some("/sign"));
    }
}
