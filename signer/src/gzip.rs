//! `AWS_IS_GZIPPED` and `GZIP_CONTENT_TYPES`, django-storages' gzip: which files are stored
//! gzip-compressed, served with `Content-Encoding: gzip` and their own type.
//!
//! A file is compressed only when that makes it smaller: the browser (or, for the no-JavaScript
//! fallback, the signer) compresses, and keeps the compressed bytes only if there are fewer of
//! them. Sans-IO: the settings' list, and the choice by a file's type.

use crate::accept;

/// django-storages' default `GZIP_CONTENT_TYPES`, as the setting writes a list.
pub const DEFAULT_TYPES: &str =
    "text/css,text/javascript,application/javascript,application/x-javascript,image/svg+xml";

/// The `Content-Encoding` of gzip-compressed bytes, the value a gzip policy requires.
pub const GZIP: &str = "gzip";

/// Whether files of some types are stored gzip-compressed (`AWS_IS_GZIPPED`), and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gzip {
    Off,
    On(GzipTypes),
}

/// `GZIP_CONTENT_TYPES`: media types without parameters, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GzipTypes(Vec<String>);

/// How the bytes of an upload are encoded, as they are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEncoding {
    /// The file as it is.
    AsIs,
    /// The file gzip-compressed: stored with `Content-Encoding: gzip`.
    Gzip,
}

impl GzipTypes {
    /// The comma-separated list of the setting (a settings file's list arrives joined so);
    /// blanks around items are dropped. Exact types only, as django-storages compares them: a
    /// wildcard or parameters would never match there, so they are refused here.
    pub fn parse(list: &str) -> Result<GzipTypes, String> {
        let mut types = Vec::new();
        for item in list.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let lower = item.to_ascii_lowercase();
            let exact = matches!(lower.split_once('/'),
                Some((major, minor)) if accept::is_token(major) && accept::is_token(minor)
                    && !major.contains('*') && !minor.contains('*'));
            if !exact {
                return Err(format!(
                    "GZIP_CONTENT_TYPES: {item:?} is not a media type such as text/css (no wildcards, \
                     no parameters)"
                ));
            }
            if !types.contains(&lower) {
                types.push(lower);
            }
        }
        Ok(GzipTypes(types))
    }

    /// Whether `content_type`, as a file's policy carries it, is listed: compared without
    /// parameters and case-insensitively, so `Text/CSS; charset=utf-8` is `text/css`.
    pub fn contains(&self, content_type: &str) -> bool {
        let essence = accept::essence(content_type);
        self.0.contains(&essence)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Gzip {
    /// The settings: `AWS_IS_GZIPPED` and `GZIP_CONTENT_TYPES`. The list is checked even with
    /// gzip off, so that a mistake in it shows before gzip is switched on; with gzip on, an
    /// empty list would compress nothing and is refused.
    pub fn from_settings(is_gzipped: bool, types: &str) -> Result<Gzip, String> {
        let types = GzipTypes::parse(types)?;
        match is_gzipped {
            false => Ok(Gzip::Off),
            true if types.is_empty() => Err(
                "AWS_IS_GZIPPED is on but GZIP_CONTENT_TYPES lists no type: nothing would be compressed; \
                 list types or turn AWS_IS_GZIPPED off"
                    .to_owned(),
            ),
            true => Ok(Gzip::On(types)),
        }
    }

    /// Whether a file of `content_type` is stored compressed, when compressing makes it smaller.
    pub fn applies_to(&self, content_type: &str) -> bool {
        match self {
            Gzip::Off => false,
            Gzip::On(types) => types.contains(content_type),
        }
    }
}

impl ContentEncoding {
    /// The `Content-Encoding` header (or POST field) value; none for bytes as they are.
    pub fn header(self) -> Option<&'static str> {
        match self {
            ContentEncoding::AsIs => None,
            ContentEncoding::Gzip => Some(GZIP),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(types: &str) -> Gzip {
        Gzip::from_settings(true, types).unwrap()
    }

    #[test]
    fn the_default_list_is_django_storages() {
        let gzip = on(DEFAULT_TYPES);
        for listed in DEFAULT_TYPES.split(',') {
            assert!(gzip.applies_to(listed), "{listed}");
        }
        for other in ["text/plain", "text/html", "image/png", "application/json", "application/octet-stream"]
        {
            assert!(!gzip.applies_to(other), "{other}");
        }
    }

    #[test]
    fn types_compare_without_parameters_and_case() {
        let gzip = on("text/css, Image/SVG+xml");
        let cases = [
            ("text/css", true),
            ("TEXT/CSS", true),
            ("text/css; charset=utf-8", true),
            (" text/css ;charset=\"utf-8\"", true),
            ("image/svg+xml", true),
            ("text/cssx", false),
            ("text/plain; x=text/css", false),
            ("", false),
        ];
        for (content_type, expected) in cases {
            assert_eq!(gzip.applies_to(content_type), expected, "{content_type:?}");
        }
    }

    #[test]
    fn off_compresses_nothing() {
        let gzip = Gzip::from_settings(false, DEFAULT_TYPES).unwrap();
        assert_eq!(gzip, Gzip::Off);
        assert!(!gzip.applies_to("text/css"));
        // An empty list is fine while gzip is off.
        assert_eq!(Gzip::from_settings(false, ""), Ok(Gzip::Off));
    }

    #[test]
    fn the_list_is_exact_media_types() {
        for bad in ["text", "text/*", "*/*", "text/css; charset=utf-8", "text/css x", "/css", "text/"] {
            let error = Gzip::from_settings(false, bad).unwrap_err();
            assert!(error.contains("GZIP_CONTENT_TYPES"), "{bad}: {error}");
        }
        let error = Gzip::from_settings(true, " , ").unwrap_err();
        assert!(error.contains("AWS_IS_GZIPPED") && error.contains("GZIP_CONTENT_TYPES"), "{error}");
        assert_eq!(on("text/css,,TEXT/CSS"), Gzip::On(GzipTypes(vec!["text/css".to_owned()])));
    }

    #[test]
    fn only_gzip_has_a_header() {
        assert_eq!(ContentEncoding::AsIs.header(), None);
        assert_eq!(ContentEncoding::Gzip.header(), Some("gzip"));
    }
}
