//! What each upload field takes, by the signer's own configuration: `S3FILE_ACCEPT` and
//! `S3FILE_MAX_FILE_SIZE` for every field, `S3FILE_FIELDS` for named ones.
//!
//! The browser's sign request names a field and may carry an `accept` and a `max_size`; none of
//! it is trusted, so a page's restrictions only ever narrow the signer's ([`Rule::narrowed`]).
//! The same [`Rule::check`] serves signing (announced name, type and size) and any later look at
//! a stored object (its key's name, stored Content-Type and size).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::accept::Accept;

/// The largest object S3 stores, and so the largest `max_size`.
const MAX_OBJECT_SIZE: u64 = crate::part_plan::MAX_OBJECT_SIZE;

/// An example of `S3FILE_FIELDS` for error messages.
const FIELDS_EXAMPLE: &str = r#"{"avatar": {"accept": "image/png,image/jpeg", "max_size": 1048576}}"#;

/// The rule of every field: a default, and the fields named in `S3FILE_FIELDS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRules {
    default: Rule,
    fields: BTreeMap<String, Rule>,
}

/// What one field takes: files no larger than `max_size` that every one of its accept rules
/// allows (none: any type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    accepts: Vec<Accept>,
    max_size: u64,
}

/// Why a file is refused; the message names the file and says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    TooLarge(String),
    NotAccepted(String),
}

impl Refusal {
    pub fn message(&self) -> &str {
        match self {
            Refusal::TooLarge(message) | Refusal::NotAccepted(message) => message,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Refusal {}

impl Rule {
    /// Any type, up to `max_size` bytes.
    pub fn new(max_size: u64) -> Rule {
        Rule { accepts: Vec::new(), max_size }
    }

    /// This rule, further restricted to what `accept` (an HTML `accept` value) allows; an empty
    /// value or `*/*` restricts nothing.
    pub fn accepting(mut self, accept: &str) -> Result<Rule, String> {
        if let Some(accept) = Accept::parse(accept)? {
            if !accept.allows_any() && !self.accepts.contains(&accept) {
                self.accepts.push(accept);
            }
        }
        Ok(self)
    }

    /// This rule with what a page asks on top: its `accept` and its size limit, which can only
    /// narrow it. The error says what is wrong with `accept`.
    pub fn narrowed(&self, accept: &str, max_size: Option<u64>) -> Result<Rule, String> {
        let mut rule = self.clone().accepting(accept)?;
        rule.max_size = max_size.map_or(rule.max_size, |page| page.min(rule.max_size));
        Ok(rule)
    }

    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// The accept rules a file must all pass; empty when any type goes.
    pub fn accepts(&self) -> &[Accept] {
        &self.accepts
    }

    /// Whether a file named `file_name`, of `content_type` (as announced, or as stored; empty
    /// when unknown) and `size` bytes, may be stored under this rule.
    pub fn check(&self, file_name: &str, content_type: &str, size: u64) -> Result<(), Refusal> {
        if size > self.max_size {
            return Err(Refusal::TooLarge(format!(
                "{file_name} is {size} bytes; files may be at most {} bytes",
                self.max_size
            )));
        }
        for accept in &self.accepts {
            accept.check(file_name, content_type).map_err(|why| {
                let shown = if content_type.is_empty() { "unknown type" } else { content_type };
                Refusal::NotAccepted(format!("{file_name} ({shown}) is not an accepted type: {why}"))
            })?;
        }
        Ok(())
    }
}

impl FieldRules {
    /// `default` for every field; add named fields with [`FieldRules::with_field`].
    pub fn new(default: Rule) -> FieldRules {
        FieldRules { default, fields: BTreeMap::new() }
    }

    /// These rules with `rule` for the field `field` instead of the default.
    pub fn with_field(mut self, field: impl Into<String>, rule: Rule) -> FieldRules {
        self.fields.insert(field.into(), rule);
        self
    }

    /// The rule of the form field `field`.
    pub fn for_field(&self, field: &str) -> &Rule {
        self.fields.get(field).unwrap_or(&self.default)
    }

    /// The default rule, of every field `S3FILE_FIELDS` does not name.
    pub fn default_rule(&self) -> &Rule {
        &self.default
    }

    /// The rules of `S3FILE_ACCEPT` (`accept`), `S3FILE_FIELDS` (`fields`, JSON) and
    /// `S3FILE_MAX_FILE_SIZE` (`max_file_size`); the errors name the setting at fault.
    pub fn parse(
        accept: Option<&str>,
        fields: Option<&str>,
        max_file_size: u64,
    ) -> Result<FieldRules, Vec<String>> {
        let mut errors = Vec::new();
        let default =
            Rule::new(max_file_size).accepting(accept.unwrap_or_default()).unwrap_or_else(|error| {
                errors.push(format!("S3FILE_ACCEPT: {error}"));
                Rule::new(max_file_size)
            });
        let mut rules = FieldRules::new(default);
        let fields = fields.map(str::trim).filter(|fields| !fields.is_empty());
        match fields.map(serde_json::from_str::<Entries<Entries<Value>>>) {
            None => {}
            Some(Err(error)) => errors.push(format!(
                "S3FILE_FIELDS must be a JSON object of fields such as {FIELDS_EXAMPLE}: {error}"
            )),
            Some(Ok(Entries(fields))) => {
                let mut seen = std::collections::BTreeSet::new();
                for (field, Entries(spec)) in fields {
                    if !seen.insert(field.clone()) {
                        errors.push(format!("S3FILE_FIELDS names the field {field:?} twice"));
                        continue;
                    }
                    match field_rule(&rules.default, &field, spec) {
                        Ok(rule) => {
                            rules.fields.insert(field, rule);
                        }
                        Err(error) => errors.push(format!("S3FILE_FIELDS: the field {field:?}: {error}")),
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(errors)
        }
    }
}

/// The rule of one field of `S3FILE_FIELDS`: its own `accept` and `max_size`, each in place of
/// the default's when given.
fn field_rule(default: &Rule, field: &str, spec: Vec<(String, Value)>) -> Result<Rule, String> {
    check_field_name(field)?;
    let (mut accept, mut max_size) = (None, None);
    for (key, value) in spec {
        match key.as_str() {
            "accept" if accept.is_none() => {
                accept = Some(match value {
                    Value::String(text) => text,
                    Value::Array(items) => items
                        .into_iter()
                        .map(|item| match item {
                            Value::String(text) => Ok(text),
                            _ => Err("accept lists only strings".to_owned()),
                        })
                        .collect::<Result<Vec<_>, _>>()?
                        .join(","),
                    _ => return Err("accept must be a string such as \"image/png,.jpg\"".to_owned()),
                });
            }
            "max_size" if max_size.is_none() => {
                max_size = Some(value.as_u64().filter(|size| *size <= MAX_OBJECT_SIZE).ok_or_else(|| {
                    format!("max_size must be a whole number of bytes up to 5 TiB (S3's largest object), got {value}")
                })?);
            }
            "accept" | "max_size" => return Err(format!("{key} is given twice")),
            _ => return Err(format!("{key:?} is not a field setting; a field takes accept and max_size")),
        }
    }
    let rule = Rule::new(max_size.unwrap_or(default.max_size));
    match accept {
        Some(accept) => rule.accepting(&accept).map_err(|error| format!("accept: {error}")),
        None => Ok(Rule { accepts: default.accepts.clone(), ..rule }),
    }
}

/// Whether `field` can be a file input's name that s3file signs for.
pub fn check_field_name(field: &str) -> Result<(), String> {
    if field.is_empty() || field.len() > 200 || field.chars().any(char::is_control) {
        return Err("a field name must be a file input's name: 1 to 200 printable characters".into());
    }
    if field == "s3file" || field.ends_with("-s3f-signature") {
        return Err(format!("`{field}` is reserved for s3file's own form fields"));
    }
    Ok(())
}

/// A JSON object's members in order, repeated names kept: `serde_json`'s maps would keep only
/// the last of two, and a setting given twice is a mistake to report, not to guess at.
struct Entries<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entries<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for EntriesVisitor<T> {
            type Value = Entries<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<T>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn parse(accept: Option<&str>, fields: Option<&str>) -> Result<FieldRules, Vec<String>> {
        FieldRules::parse(accept, fields, 10 * MIB)
    }

    #[test]
    fn nothing_set_takes_any_type_up_to_the_size_limit() {
        let rules = parse(None, None).unwrap();
        let rule = rules.for_field("file");
        assert!(rule.accepts().is_empty());
        assert_eq!(rule.check("evil.html", "text/html", 10 * MIB), Ok(()));
        assert!(matches!(rule.check("a.bin", "", 10 * MIB + 1), Err(Refusal::TooLarge(_))));
        assert_eq!(parse(Some(""), Some(" ")).unwrap(), rules);
        assert_eq!(parse(Some("*/*"), Some("{}")).unwrap(), rules);
    }

    #[test]
    fn a_field_wins_over_the_defaults_for_what_it_gives() {
        let rules = parse(
            Some("image/*"),
            Some(r#"{"avatar": {"accept": "image/png", "max_size": 1000}, "doc": {"accept": [".pdf", ".txt"]}, "big": {"max_size": 11534336}}"#),
        )
        .unwrap();
        let avatar = rules.for_field("avatar");
        assert_eq!(avatar.max_size(), 1000);
        assert!(avatar.check("a.png", "image/png", 1000).is_ok());
        assert!(matches!(avatar.check("a.jpg", "image/jpeg", 1), Err(Refusal::NotAccepted(_))));
        let doc = rules.for_field("doc");
        assert_eq!(doc.max_size(), 10 * MIB);
        assert!(doc.check("a.txt", "text/plain", 1).is_ok());
        assert!(doc.check("a.png", "image/png", 1).is_err());
        let big = rules.for_field("big");
        assert_eq!(big.max_size(), 11 * MIB, "above S3FILE_MAX_FILE_SIZE: the field's own limit");
        assert!(
            big.check("a.gif", "image/gif", 1).is_ok() && big.check("a.pdf", "application/pdf", 1).is_err()
        );
        assert_eq!(rules.for_field("other"), rules.default_rule());
        assert!(rules.for_field("other").check("a.gif", "image/gif", 1).is_ok());
    }

    #[test]
    fn a_page_only_narrows() {
        let rule = Rule::new(1000).accepting("image/png, image/jpeg").unwrap();
        let wider = rule.narrowed("*/*", Some(u64::MAX)).unwrap();
        assert_eq!(wider, rule);
        assert!(wider.check("evil.html", "text/html", 1).is_err());
        let narrower = rule.narrowed("image/png", Some(10)).unwrap();
        assert_eq!(narrower.max_size(), 10);
        assert!(narrower.check("a.jpg", "image/jpeg", 1).is_err());
        assert!(narrower.check("a.png", "image/png", 10).is_ok());
        let elsewhere = rule.narrowed("text/html", None).unwrap();
        assert!(elsewhere.check("a.html", "text/html", 1).is_err(), "the signer's rule still holds");
        assert!(elsewhere.check("a.png", "image/png", 1).is_err(), "and the page's");
        assert!(rule.narrowed("image", None).is_err());
    }

    #[test]
    fn refusals_name_the_file_and_what_to_do() {
        let rule = Rule::new(100).accepting("image/*").unwrap();
        assert_eq!(
            rule.check("evil.html", "image/png", 1),
            Err(Refusal::NotAccepted(
                "evil.html (image/png) is not an accepted type: the extension .html is not allowed here \
                 (allowed: image/*); rename the file or choose another"
                    .to_owned()
            ))
        );
        assert_eq!(
            rule.check("a.png", "", 101).unwrap_err().to_string(),
            "a.png is 101 bytes; files may be at most 100 bytes"
        );
        assert!(rule.check("photo", "", 1).unwrap_err().message().starts_with("photo (unknown type) is not"));
    }

    #[test]
    fn bad_settings_are_errors_naming_the_setting() {
        let cases: [(Option<&str>, Option<&str>, &str); 12] = [
            (Some("image"), None, "S3FILE_ACCEPT"),
            (None, Some("not json"), "S3FILE_FIELDS must be a JSON object"),
            (None, Some(r#"["avatar"]"#), "S3FILE_FIELDS must be a JSON object"),
            (None, Some(r#"{"avatar": null}"#), "S3FILE_FIELDS must be a JSON object"),
            (None, Some(r#"{"avatar": {"acept": "image/png"}}"#), "\"acept\" is not a field setting"),
            (None, Some(r#"{"avatar": {"accept": "png"}}"#), "the field \"avatar\": accept: \"png\""),
            (None, Some(r#"{"avatar": {"accept": 1}}"#), "accept must be a string"),
            (None, Some(r#"{"avatar": {"max_size": -1}}"#), "max_size must be a whole number"),
            (None, Some(r#"{"avatar": {"max_size": 1.5}}"#), "max_size must be a whole number"),
            (None, Some(r#"{"avatar": {"max_size": 1, "max_size": 2}}"#), "max_size is given twice"),
            (None, Some(r#"{"avatar": {}, "avatar": {}}"#), "names the field \"avatar\" twice"),
            (None, Some(r#"{"s3file": {}}"#), "reserved"),
        ];
        for (accept, fields, expected) in cases {
            let errors = parse(accept, fields).unwrap_err();
            assert!(errors.iter().any(|error| error.contains(expected)), "{accept:?} {fields:?}: {errors:?}");
        }
        assert_eq!(parse(Some("image"), Some("[]")).unwrap_err().len(), 2, "both settings are reported");
        let too_big = format!(r#"{{"a": {{"max_size": {}}}}}"#, MAX_OBJECT_SIZE + 1);
        assert!(parse(None, Some(&too_big)).is_err());
    }

    #[test]
    fn rules_can_be_built_in_code() {
        let rules = FieldRules::new(Rule::new(5 * MIB))
            .with_field("avatar", Rule::new(MIB).accepting("image/png").unwrap().accepting(".png").unwrap());
        assert_eq!(rules.for_field("avatar").accepts().len(), 2);
        assert!(rules.for_field("avatar").check("a.png", "image/png", MIB).is_ok());
        assert!(rules.for_field("file").check("a.html", "text/html", 5 * MIB).is_ok());
    }
}
