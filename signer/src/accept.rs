//! The HTML `accept` attribute as an upload restriction.
//!
//! A file input's `accept` is a comma-separated list of MIME types (`image/png`), type wildcards
//! (`image/*`) and file extensions (`.pdf`). Browsers only use it to filter the file picker; the
//! signer enforces it, and then signs each file's own type exactly into its policy.
//!
//! A file is two claims: its name, whose extension decides how a downloaded copy opens, and its
//! announced type, which S3 serves the object with. Either one alone can smuggle the other past
//! a rule (`evil.png` announced as `text/html`, `evil.html` announced as `image/png`), so a rule
//! checks both, and that they agree:
//!
//! 1. the name: it ends with one of the listed extensions, or its extension's types (as
//!    `mime_guess` knows them) include one the listed types or wildcards allow;
//! 2. the announced type, unless it is unknown (empty, signed as `application/octet-stream`):
//!    a listed type or wildcard allows it, or it is a type of a listed extension;
//! 3. the announced type, unless unknown, is one of the types of the name's extension.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Type(String),
    /// `image/*`, kept as its prefix `image/`.
    TypeWildcard(String),
    /// `.tar.gz`, with the types of its last extension (`gz`).
    Extension {
        extension: String,
        types: Vec<&'static str>,
    },
    Any,
}

/// A media type without its parameters, lower-cased: `Text/Plain; charset=utf-8` → `text/plain`.
pub fn essence(media_type: &str) -> String {
    media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// Whether a media type says nothing of the content: what a browser announces for a file it
/// does not know (nothing, which the signer signs as `application/octet-stream`), and S3's own
/// default. Served so, a file is downloaded, never rendered.
pub fn is_unknown_type(essence: &str) -> bool {
    matches!(essence, "" | "application/octet-stream" | "binary/octet-stream")
}

/// The extension of a file name, ASCII-lower-cased and without its dot: `a.Tar.GZ` → `gz`;
/// `None` without a dot or after a trailing one.
pub fn extension(file_name: &str) -> Option<String> {
    let (_, extension) = file_name.rsplit_once('.')?;
    (!extension.is_empty()).then(|| extension.to_ascii_lowercase())
}

/// The media types an extension stands for. ASCII extensions only: `mime_guess` folds case
/// with Unicode's rules, which would read `ln\u{212A}` (KELVIN SIGN) as `lnk`.
pub fn types_of_extension(extension: &str) -> Vec<&'static str> {
    if !extension.is_ascii() {
        return Vec::new();
    }
    mime_guess::from_ext(extension).iter_raw().collect()
}

/// RFC 9110's `token`, what each half of a media type is made of.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Accept {
    /// Parses an `accept` value; `None` when it names nothing (which accepts everything).
    pub fn parse(value: &str) -> Result<Option<Accept>, String> {
        let mut tokens = Vec::new();
        for raw in value.split(',').map(str::trim).filter(|raw| !raw.is_empty()) {
            let lower = raw.to_ascii_lowercase();
            let token = if let Some(name) = lower.strip_prefix('.') {
                let plain = !name.is_empty()
                    && !name.chars().any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '\\'));
                if !plain {
                    return Err(format!("{raw:?} is not a file extension such as .pdf"));
                }
                let types = extension(&lower).map(|last| types_of_extension(&last)).unwrap_or_default();
                Token::Extension { extension: lower, types }
            } else if lower == "*/*" {
                Token::Any
            } else {
                match lower.split_once('/') {
                    Some((major, "*")) if is_token(major) && major != "*" => {
                        Token::TypeWildcard(format!("{major}/"))
                    }
                    Some((major, minor)) if is_token(major) && is_token(minor) && !major.contains('*') => {
                        Token::Type(lower)
                    }
                    _ => {
                        return Err(format!(
                            "{raw:?} is neither a media type (such as image/png or image/*) nor a file \
                             extension (such as .pdf)"
                        ))
                    }
                }
            };
            if !tokens.contains(&token) {
                tokens.push(token);
            }
        }
        Ok((!tokens.is_empty()).then_some(Accept { tokens }))
    }

    /// Whether every file passes: the rule lists `*/*`.
    pub fn allows_any(&self) -> bool {
        self.tokens.contains(&Token::Any)
    }

    /// Whether a file of this name and media type (as the browser reports it) is accepted.
    pub fn allows(&self, file_name: &str, media_type: &str) -> bool {
        self.check(file_name, media_type).is_ok()
    }

    /// Accepts a file of this name and media type, or says why not and what to do, in words
    /// that follow `<name> (<type>) is not an accepted type: `.
    pub fn check(&self, file_name: &str, media_type: &str) -> Result<(), String> {
        if self.allows_any() {
            return Ok(());
        }
        let essence = essence(media_type);
        // ASCII case folding, as for the extensions themselves: Unicode lowercasing of the name
        // alone would miss `.DÉ` in `a.DÉ` and find `.lnk` in `a.ln\u{212A}` (KELVIN SIGN).
        let name = file_name.to_ascii_lowercase();
        let extension = extension(&name);
        let named_types = extension.as_deref().map(types_of_extension).unwrap_or_default();
        let listed = self.tokens.iter().any(|token| match token {
            Token::Extension { extension, .. } => name.ends_with(extension.as_str()),
            _ => false,
        });
        if !listed && !named_types.iter().any(|named| self.type_listed(named)) {
            return Err(match &extension {
                Some(extension) => format!(
                    "the extension .{extension} is not allowed here (allowed: {self}); rename the file or \
                     choose another"
                ),
                None => format!(
                    "the name has no extension, so nothing says it is of an allowed type (allowed: {self}); \
                     rename the file or choose another"
                ),
            });
        }
        if is_unknown_type(&essence) {
            return Ok(());
        }
        let of_listed_extension = self.tokens.iter().any(|token| match token {
            Token::Extension { types, .. } => types.contains(&essence.as_str()),
            _ => false,
        });
        if !self.type_listed(&essence) && !of_listed_extension {
            return Err(format!(
                "the type {essence} is not allowed here (allowed: {self}); choose a file of an allowed type"
            ));
        }
        if !named_types.contains(&essence.as_str()) {
            let extension = extension.unwrap_or_default();
            return Err(if named_types.is_empty() {
                format!(
                    "nothing says that a file named .{extension} is {essence}; rename the file with the \
                     extension of its type or choose another"
                )
            } else {
                format!(
                    "its extension .{extension} is {}, not {essence}; rename the file with the extension of \
                     its type or choose another",
                    named_types.join(" or ")
                )
            });
        }
        Ok(())
    }

    /// Whether a listed type or wildcard allows `essence`.
    fn type_listed(&self, essence: &str) -> bool {
        self.tokens.iter().any(|token| match token {
            Token::Type(exact) => essence == exact,
            Token::TypeWildcard(prefix) => essence.starts_with(prefix.as_str()),
            Token::Extension { .. } | Token::Any => false,
        })
    }
}

/// The rule as an `accept` attribute, normalised: `image/*, .pdf`.
impl fmt::Display for Accept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, token) in self.tokens.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            match token {
                Token::Type(exact) => f.write_str(exact)?,
                Token::TypeWildcard(prefix) => write!(f, "{prefix}*")?,
                Token::Extension { extension, .. } => f.write_str(extension)?,
                Token::Any => f.write_str("*/*")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Accept {
        Accept::parse(value).unwrap().unwrap()
    }

    #[test]
    fn empty_accepts_everything() {
        assert_eq!(Accept::parse("").unwrap(), None);
        assert_eq!(Accept::parse(" , ").unwrap(), None);
        assert!(accept("*/*, image/png").allows("evil.html", "text/html"));
    }

    #[test]
    fn wildcards_exact_types_and_extensions() {
        let accept = accept("image/*, application/pdf, .TXT");
        assert!(accept.allows("a.png", "image/png"));
        assert!(accept.allows("a.pdf", "application/pdf"));
        assert!(accept.allows("notes.txt", "text/plain"));
        assert!(accept.allows("NOTES.TXT", ""));
        assert!(!accept.allows("a.html", "text/html"));
        assert!(!accept.allows("a.pdf", "application/pdfx"));
        assert!(!accept.allows("image.svg.exe", "application/x-msdownload"));
    }

    #[test]
    fn parameters_and_case_do_not_matter() {
        let accept = accept("Text/Plain");
        assert!(accept.allows("a.TXT", "text/plain; charset=utf-8"));
        assert_eq!(accept.to_string(), "text/plain");
    }

    /// Caught by the `form` fuzz target: the extensions were lowercased ASCII-only but the file
    /// name with Unicode's rules, so a non-ASCII capital in an extension never matched its own
    /// spelling, and a name that Unicode alone folds onto an extension matched it (`\u{212A}`,
    /// KELVIN SIGN, lowercases to `k`). Both sides now fold ASCII only, as media types do.
    #[test]
    fn extensions_compare_ascii_case_insensitively() {
        let accept = accept(".DÉ, .lnk");
        assert!(accept.allows("Résumé.DÉ", ""));
        assert!(accept.allows("résumé.dÉ", ""));
        assert!(accept.allows("A.LNK", ""));
        assert!(!accept.allows("a.ln\u{212A}", ""), "KELVIN SIGN is not K");
        assert!(!accept.allows("résumé.dé", ""), "É and é differ beyond ASCII");
        assert!(!self::accept("application/*").allows("a.ln\u{212A}", ""), "nor for mime_guess");
    }

    #[test]
    fn an_extension_allows_its_own_types_only() {
        let png = accept(".png");
        assert!(png.allows("a.png", "image/png"));
        assert!(png.allows("a.png", ""));
        let refusal = png.check("evil.png", "text/html").unwrap_err();
        assert!(refusal.contains("the type text/html is not allowed here (allowed: .png)"), "{refusal}");
        // The type of another listed extension is allowed, but not under this name.
        let refusal = accept(".png, .html").check("evil.png", "text/html").unwrap_err();
        assert!(refusal.contains("its extension .png is image/png, not text/html"), "{refusal}");
    }

    #[test]
    fn the_name_must_be_of_an_allowed_type() {
        let images = accept("image/*");
        let refusal = images.check("evil.html", "image/png").unwrap_err();
        assert_eq!(
            refusal,
            "the extension .html is not allowed here (allowed: image/*); rename the file or choose another"
        );
        assert!(images.allows("a.PNG", "image/png"));
        assert!(images.allows("a.png", ""));
        assert!(!images.allows("a.png", "image/jpeg"), "name and type disagree");
        assert!(!images.allows("photo", "image/png"), "no extension says it is an image");
        assert!(!images.allows("a.unknown-extension", ""), "nor does an unknown one");
        assert!(!images.allows("a.png.html", "image/png"));
        assert!(!accept("image/png").allows("a.jpeg", "image/png"));
    }

    #[test]
    fn a_listed_extension_unknown_to_mime_guess_takes_files_of_no_type() {
        let custom = accept(".s3file-backup, text/plain");
        assert!(custom.allows("a.s3file-backup", ""));
        assert!(custom.allows("a.s3file-backup", "application/octet-stream"));
        assert!(!custom.allows("a.s3file-backup", "text/plain"), "nothing says the two agree");
        assert!(custom.allows("a.txt", "text/plain"));
    }

    #[test]
    fn multi_part_extensions_take_the_types_of_the_last() {
        let tarballs = accept(".tar.gz");
        assert!(tarballs.allows("a.TAR.GZ", "application/gzip"));
        assert!(tarballs.allows("a.tar.gz", ""));
        assert!(!tarballs.allows("a.gz", "application/gzip"), "the whole extension is listed");
        assert!(!tarballs.allows("a.tar.gz", "text/html"));
    }

    #[test]
    fn nonsense_is_an_error() {
        for bad in [
            "image",
            "/png",
            ".",
            "image/",
            "*/png",
            "image/png/x",
            "image/*;capture=camera",
            ". png",
            ".a/b",
        ] {
            assert!(Accept::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn duplicates_collapse_and_display_normalises() {
        assert_eq!(accept(" IMAGE/*,image/*, .PDF ").to_string(), "image/*, .pdf");
    }
}
