//! The HTML `accept` attribute as an upload restriction.
//!
//! A file input's `accept` is a comma-separated list of MIME types (`image/png`), type wildcards
//! (`image/*`) and file extensions (`.pdf`). Browsers only use it to filter the file picker; the
//! signer enforces it, and then signs each file's own type exactly into its policy.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    Type(String),
    TypeWildcard(String),
    Extension(String),
    Any,
}

impl Accept {
    /// Parses an `accept` value; `None` when it names nothing (which accepts everything).
    pub fn parse(value: &str) -> Result<Option<Accept>, String> {
        let mut rules = Vec::new();
        for token in value.split(',').map(str::trim).filter(|token| !token.is_empty()) {
            let token = token.to_ascii_lowercase();
            let rule = if token.starts_with('.') && token.len() > 1 {
                Rule::Extension(token)
            } else if token == "*/*" {
                Rule::Any
            } else if let Some(major) = token.strip_suffix("/*") {
                Rule::TypeWildcard(format!("{major}/"))
            } else if token
                .split_once('/')
                .is_some_and(|(major, minor)| !major.is_empty() && !minor.is_empty())
            {
                Rule::Type(token)
            } else {
                return Err(format!("{token:?} in `accept` is neither a media type nor a .extension"));
            };
            rules.push(rule);
        }
        Ok((!rules.is_empty()).then_some(Accept { rules }))
    }

    /// Whether a file of this name and media type (as the browser reports it) is accepted.
    pub fn allows(&self, file_name: &str, media_type: &str) -> bool {
        let essence = media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        // ASCII case folding, as for the extensions themselves: Unicode lowercasing of the name
        // alone would miss `.DÉ` in `a.DÉ` and find `.lnk` in `a.ln\u{212A}` (KELVIN SIGN).
        let name = file_name.to_ascii_lowercase();
        self.rules.iter().any(|rule| match rule {
            Rule::Any => true,
            Rule::Type(exact) => essence == *exact,
            Rule::TypeWildcard(prefix) => essence.starts_with(prefix.as_str()),
            Rule::Extension(extension) => name.ends_with(extension.as_str()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_accepts_everything() {
        assert_eq!(Accept::parse("").unwrap(), None);
        assert_eq!(Accept::parse(" , ").unwrap(), None);
    }

    #[test]
    fn wildcards_exact_types_and_extensions() {
        let accept = Accept::parse("image/*, application/pdf, .TXT").unwrap().unwrap();
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
        let accept = Accept::parse("Text/Plain").unwrap().unwrap();
        assert!(accept.allows("a", "text/plain; charset=utf-8"));
    }

    /// Caught by the `form` fuzz target: the extensions were lowercased ASCII-only but the file
    /// name with Unicode's rules, so a non-ASCII capital in an extension never matched its own
    /// spelling, and a name that Unicode alone folds onto an extension matched it (`\u{212A}`,
    /// KELVIN SIGN, lowercases to `k`). Both sides now fold ASCII only, as media types do.
    #[test]
    fn extensions_compare_ascii_case_insensitively() {
        let accept = Accept::parse(".DÉ, .lnk").unwrap().unwrap();
        assert!(accept.allows("Résumé.DÉ", ""));
        assert!(accept.allows("résumé.dÉ", ""));
        assert!(accept.allows("A.LNK", ""));
        assert!(!accept.allows("a.ln\u{212A}", ""), "KELVIN SIGN is not K");
        assert!(!accept.allows("résumé.dé", ""), "É and é differ beyond ASCII");
    }

    #[test]
    fn nonsense_is_an_error() {
        assert!(Accept::parse("image").is_err());
        assert!(Accept::parse("/png").is_err());
        assert!(Accept::parse(".").is_err());
    }
}
