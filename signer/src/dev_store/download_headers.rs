//! The headers that keep downloaded user content from running on the origin that serves it.
//!
//! The dev store serves uploads on the signer's own origin, where a page could call the
//! signer's API with the user's cookies. So every download says `nosniff` (the browser keeps to
//! the declared type), carries a `sandbox` policy (a page that does open runs in an opaque
//! origin, without script), and anything but a short list of inert types is an attachment.
//!
//! Sans-IO: from a content type and the stored `Content-Disposition` to header values.

/// `X-Content-Type-Options`: no guessing a type that would run.
pub const NOSNIFF: &str = "nosniff";

/// `Content-Security-Policy`: whatever still renders gets a unique origin and no script.
pub const SANDBOX: &str = "sandbox";

/// Media types a browser shows without running anything: raster images, plain text, audio and
/// video. Never SVG, HTML, XML, PDF: they can carry script or links that act on the origin.
const INERT: [&str; 12] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "text/plain",
    "audio/mpeg",
    "audio/ogg",
    "audio/webm",
    "video/mp4",
    "video/webm",
    "video/ogg",
];

/// Whether a browser may show a download in place, or must save it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Inline,
    Attachment,
}

/// How a download of `content_type` may be shown: inline only for an inert type. Media types
/// compare case-insensitively and without their parameters.
pub fn disposition(content_type: &str) -> Disposition {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if INERT.iter().any(|inert| inert.eq_ignore_ascii_case(essence)) {
        Disposition::Inline
    } else {
        Disposition::Attachment
    }
}

/// The `Content-Disposition` to answer with: the stored one, unless it would let a type that
/// is not inert show in place; then `attachment`.
pub fn content_disposition<'a>(content_type: &str, stored: Option<&'a str>) -> Option<&'a str> {
    match disposition(content_type) {
        Disposition::Inline => stored,
        Disposition::Attachment => Some(stored.filter(|value| is_attachment(value)).unwrap_or("attachment")),
    }
}

fn is_attachment(disposition: &str) -> bool {
    disposition.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("attachment")
}

/// Every header a response that serves user content of `content_type` sets, as lower-case
/// names and values, replacing any of the same name.
pub fn download_headers<'a>(
    content_type: &str,
    stored_disposition: Option<&'a str>,
) -> Vec<(&'static str, &'a str)> {
    let mut headers = vec![("x-content-type-options", NOSNIFF), ("content-security-policy", SANDBOX)];
    if let Some(value) = content_disposition(content_type, stored_disposition) {
        headers.push(("content-disposition", value));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inert_types_show_inline() {
        let table = [
            ("image/png", Disposition::Inline),
            ("image/jpeg", Disposition::Inline),
            ("IMAGE/GIF", Disposition::Inline),
            ("image/webp", Disposition::Inline),
            ("image/avif", Disposition::Inline),
            ("text/plain", Disposition::Inline),
            ("text/plain; charset=utf-8", Disposition::Inline),
            (" Text/Plain ;charset=\"utf-8\"", Disposition::Inline),
            ("audio/mpeg", Disposition::Inline),
            ("video/mp4", Disposition::Inline),
            ("image/svg+xml", Disposition::Attachment),
            ("text/html", Disposition::Attachment),
            ("TEXT/HTML; charset=utf-8", Disposition::Attachment),
            ("application/xhtml+xml", Disposition::Attachment),
            ("application/pdf", Disposition::Attachment),
            ("text/xml", Disposition::Attachment),
            ("application/xml", Disposition::Attachment),
            ("text/javascript", Disposition::Attachment),
            ("application/octet-stream", Disposition::Attachment),
            ("binary/octet-stream", Disposition::Attachment),
            ("", Disposition::Attachment),
            ("image/png, text/html", Disposition::Attachment),
            ("image/pngx", Disposition::Attachment),
            ("text/plain+html", Disposition::Attachment),
        ];
        for (content_type, expected) in table {
            assert_eq!(disposition(content_type), expected, "{content_type:?}");
        }
    }

    #[test]
    fn a_stored_disposition_is_kept_unless_it_would_show_active_content_inline() {
        let table = [
            ("image/png", None, None),
            ("image/png", Some("inline"), Some("inline")),
            ("text/plain", Some("attachment; filename=\"a.txt\""), Some("attachment; filename=\"a.txt\"")),
            ("text/html", None, Some("attachment")),
            ("text/html", Some("inline"), Some("attachment")),
            ("text/html", Some("inline; filename=\"a.html\""), Some("attachment")),
            ("text/html", Some("Attachment; filename=\"a.html\""), Some("Attachment; filename=\"a.html\"")),
            ("image/svg+xml", Some("attachmentx"), Some("attachment")),
            ("image/svg+xml", Some(""), Some("attachment")),
        ];
        for (content_type, stored, expected) in table {
            assert_eq!(content_disposition(content_type, stored), expected, "{content_type:?} {stored:?}");
        }
    }

    #[test]
    fn every_download_is_nosniff_and_sandboxed() {
        assert_eq!(
            download_headers("image/png", None),
            [("x-content-type-options", "nosniff"), ("content-security-policy", "sandbox")]
        );
        assert_eq!(
            download_headers("text/html", Some("inline")),
            [
                ("x-content-type-options", "nosniff"),
                ("content-security-policy", "sandbox"),
                ("content-disposition", "attachment")
            ]
        );
    }
}
