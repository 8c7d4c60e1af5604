//! Reading S3's XML answers to a POST upload without an XML parser.
//!
//! S3 (and compatible stores) answer `201` with
//! `<PostResponse><Location>…</Location><Bucket>…</Bucket><Key>…</Key><ETag>…</ETag></PostResponse>`
//! and errors with `<Error><Code>…</Code><Message>…</Message>…</Error>`. Both are flat, so finding
//! one element's text and decoding XML's escapes is all the widget needs, and it keeps the wasm
//! small.

use alloc::borrow::ToOwned;
use alloc::string::String;

/// The stored key from a successful upload's response body.
pub fn key(body: &str) -> Option<String> {
    element_text(body, "Key")
}

/// A human-readable reason from an error response body: its `<Message>`, else its `<Code>`.
pub fn error_reason(body: &str) -> Option<String> {
    for tag in ["Message", "Code"] {
        let Some(reason) = element_text(body, tag) else {
            continue;
        };
        let reason = reason.trim_ascii();
        if !reason.is_empty() {
            return Some(reason.to_owned());
        }
    }
    None
}

/// The unescaped text of the first `<tag>…</tag>` in `xml`; `None` when it is missing, holds
/// markup, or contains an escape we do not know (a guess would be a wrong key).
fn element_text(xml: &str, tag: &str) -> Option<String> {
    // Every `<` starts a tag: `<Key>` opens the element, `</Key>` closes it.
    let mut rest = xml;
    let text = loop {
        (_, rest) = split_at_byte(rest, b'<')?;
        if let Some(text) = rest.strip_prefix(tag).and_then(|after| after.strip_prefix('>')) {
            break text;
        }
    };
    let (text, closing) = split_at_byte(text, b'<')?;
    closing.strip_prefix('/')?.strip_prefix(tag)?.strip_prefix('>')?;
    unescape(text)
}

/// Decodes XML's predefined entities and character references.
fn unescape(text: &str) -> Option<String> {
    let mut decoded = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, entity_and_after)) = split_at_byte(rest, b'&') {
        decoded.push_str(before);
        let (name, after) = split_at_byte(entity_and_after, b';')?;
        decoded.push(entity(name)?);
        rest = after;
    }
    decoded.push_str(rest);
    Some(decoded)
}

/// `text` before and after the first `delimiter`, an ASCII byte; `None` without one.
///
/// Rather than `str::split_once`, whose panic path for bad slice bounds would bring in
/// `core::fmt`, a third of the widget's size.
fn split_at_byte(text: &str, delimiter: u8) -> Option<(&str, &str)> {
    let index = text.bytes().position(|byte| byte == delimiter)?;
    // An ASCII byte always lies on a character boundary, so both are `Some`.
    Some((text.get(..index)?, text.get(index + 1..)?))
}

/// The character for an entity name without its `&` and `;`, e.g. `amp` or `#x41`.
fn entity(name: &str) -> Option<char> {
    let code = match name {
        "amp" => return Some('&'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "quot" => return Some('"'),
        "apos" => return Some('\''),
        _ => name.strip_prefix('#')?,
    };
    let code = match code.strip_prefix('x') {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => code.parse().ok()?,
    };
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<PostResponse><Location>http://127.0.0.1:8000/s3/s3file-dev/tmp%2Fs3file%2Fabc%2Fa.txt</Location><Bucket>s3file-dev</Bucket><Key>tmp/s3file/abc/a.txt</Key><ETag>"5d41402abc4b2a76b9719d911017c592"</ETag></PostResponse>"#;

    #[test]
    fn key_is_read_from_a_post_response() {
        assert_eq!(key(CREATED).as_deref(), Some("tmp/s3file/abc/a.txt"));
    }

    #[test]
    fn escapes_in_the_key_are_decoded() {
        let body = "<PostResponse><Key>tmp/s3file/abc/Tom &amp; Jerry &lt;1&gt; &quot;&apos;&#233;&#x1F600;.txt</Key></PostResponse>";
        assert_eq!(key(body).as_deref(), Some("tmp/s3file/abc/Tom & Jerry <1> \"'é😀.txt"));
    }

    #[test]
    fn key_is_none_without_a_key_element() {
        assert_eq!(key(""), None);
        assert_eq!(key("<PostResponse><Bucket>b</Bucket></PostResponse>"), None);
        assert_eq!(key("<PostResponse><Key>never closed"), None);
        assert_eq!(key("<PostResponse><Key>a</Bucket>"), None);
        // A longer element name that starts with the same letters is another element.
        assert_eq!(key("<PostResponse><KeyMarker>a</KeyMarker></PostResponse>"), None);
    }

    #[test]
    fn a_key_we_cannot_decode_is_not_guessed() {
        assert_eq!(key("<Key>a&nbsp;b</Key>"), None);
        assert_eq!(key("<Key>a & b</Key>"), None);
        assert_eq!(key("<Key>&#xD800;</Key>"), None);
        assert_eq!(key("<Key><![CDATA[a]]></Key>"), None);
    }

    #[test]
    fn the_first_key_wins() {
        assert_eq!(key("<Key>a</Key><Key>b</Key>").as_deref(), Some("a"));
    }

    #[test]
    fn error_reason_prefers_the_message() {
        let body = "<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message></Error>";
        assert_eq!(error_reason(body).as_deref(), Some("Invalid according to Policy: Policy expired."));
        assert_eq!(
            error_reason("<Error><Code>EntityTooLarge</Code></Error>").as_deref(),
            Some("EntityTooLarge")
        );
        assert_eq!(
            error_reason("<Error><Message> </Message><Code>SlowDown</Code></Error>").as_deref(),
            Some("SlowDown")
        );
        assert_eq!(error_reason("<html>Bad Gateway</html>"), None);
    }
}
