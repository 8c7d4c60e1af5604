//! Key naming: what a file may be called, where its upload goes, where it ends up, and which
//! submitted keys are acceptable.
//!
//! Submitted keys come from the browser and are hostile until proven otherwise. They are never
//! repaired: a key that is not exactly `<upload path>/<folder>/<name>` with a plain name is
//! refused (django-s3file's CVE-2022-24840 and CVE-2026-42196 were both path tricks that a
//! normalising check let through).

use std::fmt;

/// The longest file name accepted, in bytes (common file systems' limit).
pub const MAX_NAME_BYTES: usize = 255;

#[derive(Debug, PartialEq, Eq)]
pub enum KeyError {
    EmptyName,
    NameTooLong,
    OutsideUploadPath,
    NotAPlainName,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyError::EmptyName => "the file name is empty",
            KeyError::NameTooLong => "the file name is longer than 255 bytes",
            KeyError::OutsideUploadPath => "the key is not inside the upload folder",
            KeyError::NotAPlainName => "the key's file name is not a plain name",
        })
    }
}

/// The name a browser-supplied file name is stored under.
///
/// Keeps the last path component (browsers may send `C:\fakepath\a.txt`), replaces control
/// characters and `"` (which browsers escape in multipart headers, so S3 would store a different
/// name than the one signed) with `_`, and trims surrounding whitespace.
pub fn sanitize_file_name(raw: &str) -> Result<String, KeyError> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().map(|c| if c.is_control() || c == '"' { '_' } else { c }).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return Err(KeyError::EmptyName);
    }
    if cleaned.len() > MAX_NAME_BYTES {
        return Err(KeyError::NameTooLong);
    }
    Ok(cleaned.to_owned())
}

/// A fresh folder name from 16 random bytes: 22 URL-safe characters, unguessable.
pub fn folder_id(random: [u8; 16]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
}

/// Joins path segments with `/`, dropping empty ones and stray slashes at their ends.
pub fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|part| part.trim_matches('/'))
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// A submitted key that has the shape of an upload: `<upload path>/<folder>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadKey {
    key: String,
    name_start: usize,
}

impl UploadKey {
    pub fn parse(upload_path: &str, key: &str) -> Result<UploadKey, KeyError> {
        let upload_path = upload_path.trim_matches('/');
        let rest = if upload_path.is_empty() {
            key
        } else {
            key.strip_prefix(upload_path)
                .and_then(|rest| rest.strip_prefix('/'))
                .ok_or(KeyError::OutsideUploadPath)?
        };
        let (folder, name) = rest.split_once('/').ok_or(KeyError::OutsideUploadPath)?;
        if !is_folder_id(folder) {
            return Err(KeyError::OutsideUploadPath);
        }
        if !is_plain_name(name) {
            return Err(KeyError::NotAPlainName);
        }
        Ok(UploadKey { key: key.to_owned(), name_start: key.len() - name.len() })
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// `<upload path>/<folder>`, what the folder signature covers.
    pub fn folder(&self) -> &str {
        &self.key[..self.name_start - 1]
    }

    pub fn name(&self) -> &str {
        &self.key[self.name_start..]
    }

    /// The random id of the folder, its last segment.
    pub fn folder_id(&self) -> &str {
        let folder = self.folder();
        folder.rsplit_once('/').map_or(folder, |(_, id)| id)
    }
}

fn is_folder_id(folder: &str) -> bool {
    (16..=64).contains(&folder.len())
        && folder.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Exactly what [`sanitize_file_name`] can produce, and nothing a path resolver would treat
/// specially.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name != "."
        && name != ".."
        && name.trim() == name
        && !name.chars().any(|c| c.is_control() || matches!(c, '/' | '\\' | '"'))
}

/// A key as a URL path: every byte but unreserved characters and `/` percent-escaped.
pub fn url_path(key: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const PATH: &AsciiSet =
        &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    utf8_percent_encode(key, PATH).to_string()
}

/// Where finalize stores a file (`AWS_S3_FILE_OVERWRITE` chooses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalNaming {
    /// `<location>/<upload folder id>/<name>`: the folder id is random and a folder's keys are
    /// signed for one form, so no upload can name an object another upload stored. The file
    /// keeps its own name for downloads.
    UniquePerUpload,
    /// `<location>/<name>`, django-storages' `file_overwrite`: a later upload of the same name
    /// replaces the object.
    Overwrite,
}

impl FinalNaming {
    pub fn from_overwrite(file_overwrite: bool) -> FinalNaming {
        if file_overwrite {
            FinalNaming::Overwrite
        } else {
            FinalNaming::UniquePerUpload
        }
    }

    /// The final key of file `name`, uploaded into the folder `folder_id`.
    pub fn final_key(self, location: &str, folder_id: &str, name: &str) -> String {
        match self {
            FinalNaming::UniquePerUpload => join(&[location, folder_id, name]),
            FinalNaming::Overwrite => join(&[location, name]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOLDER: &str = "AAECAwQFBgcICQoLDA0ODw";

    #[test]
    fn sanitizes_browser_file_names() {
        assert_eq!(sanitize_file_name("a.txt").unwrap(), "a.txt");
        assert_eq!(sanitize_file_name("C:\\fakepath\\a.txt").unwrap(), "a.txt");
        assert_eq!(sanitize_file_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(sanitize_file_name("say \"hi\"\n.txt").unwrap(), "say _hi__.txt");
        assert_eq!(sanitize_file_name("  résumé 2026.pdf ").unwrap(), "résumé 2026.pdf");
        assert_eq!(sanitize_file_name("<img src=x>.png").unwrap(), "<img src=x>.png");
        for empty in ["", "   ", ".", "..", "dir/", "a/.."] {
            assert_eq!(sanitize_file_name(empty), Err(KeyError::EmptyName), "{empty:?}");
        }
        assert_eq!(sanitize_file_name(&"x".repeat(256)), Err(KeyError::NameTooLong));
    }

    #[test]
    fn folder_ids_are_22_url_safe_characters() {
        assert_eq!(folder_id([0; 16]), "AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(folder_id([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]), FOLDER);
    }

    #[test]
    fn joins_without_doubled_or_leading_slashes() {
        assert_eq!(join(&["", "a.txt"]), "a.txt");
        assert_eq!(join(&["media/", "/a.txt"]), "media/a.txt");
        assert_eq!(join(&["tmp/s3file", FOLDER]), format!("tmp/s3file/{FOLDER}"));
    }

    #[test]
    fn parses_a_well_formed_upload_key() {
        let key = UploadKey::parse("tmp/s3file", &format!("tmp/s3file/{FOLDER}/a b.txt")).unwrap();
        assert_eq!(key.folder(), format!("tmp/s3file/{FOLDER}"));
        assert_eq!(key.name(), "a b.txt");
        let at_root = UploadKey::parse("", &format!("{FOLDER}/a.txt")).unwrap();
        assert_eq!(at_root.folder(), FOLDER);
    }

    #[test]
    fn refuses_every_path_trick() {
        let refused = [
            format!("tmp/s3file/{FOLDER}/../../etc/passwd"),
            format!("tmp/s3file/{FOLDER}/.."),
            format!("tmp/s3file/{FOLDER}/."),
            format!("tmp/s3file/{FOLDER}/"),
            format!("tmp/s3file/{FOLDER}//a.txt"),
            format!("tmp/s3file/{FOLDER}/sub/a.txt"),
            format!("tmp/s3file/{FOLDER}/..\\..\\a.txt"),
            format!("tmp/s3file/{FOLDER}/a\\b.txt"),
            format!("tmp/s3file/{FOLDER}/a.txt\n"),
            format!("tmp/s3file/{FOLDER}/ a.txt"),
            format!("tmp/s3file//{FOLDER}/a.txt"),
            format!("tmp/s3file/./{FOLDER}/a.txt"),
            format!("tmp/s3file_evil/{FOLDER}/a.txt"),
            format!("tmp/s3filex/{FOLDER}/a.txt"),
            format!("/tmp/s3file/{FOLDER}/a.txt"),
            format!("tmp/s3file/{FOLDER}%2F..%2Fa.txt"),
            "tmp/s3file/short/a.txt".to_owned(),
            "tmp/s3file/a.txt".to_owned(),
            "media/a.txt".to_owned(),
            String::new(),
        ];
        for key in refused {
            assert!(UploadKey::parse("tmp/s3file", &key).is_err(), "{key:?} was accepted");
        }
    }

    #[test]
    fn a_percent_in_a_name_is_a_literal_character() {
        // S3 keys are not URL-decoded, so `%2e%2e` names a file, not a parent directory.
        let key = UploadKey::parse("tmp/s3file", &format!("tmp/s3file/{FOLDER}/%2e%2e")).unwrap();
        assert_eq!(key.name(), "%2e%2e");
    }

    #[test]
    fn url_paths_escape_everything_but_slashes_and_unreserved() {
        assert_eq!(url_path("media/a b+c?.txt"), "media/a%20b%2Bc%3F.txt");
        assert_eq!(url_path("tmp/résumé.pdf"), "tmp/r%C3%A9sum%C3%A9.pdf");
    }

    #[test]
    fn final_keys_are_unique_per_upload_unless_overwriting() {
        let key = UploadKey::parse("tmp/s3file", &format!("tmp/s3file/{FOLDER}/a.txt")).unwrap();
        assert_eq!(key.folder_id(), FOLDER);
        assert_eq!(
            FinalNaming::UniquePerUpload.final_key("media/", key.folder_id(), key.name()),
            format!("media/{FOLDER}/a.txt")
        );
        assert_eq!(FinalNaming::UniquePerUpload.final_key("", FOLDER, "a.txt"), format!("{FOLDER}/a.txt"));
        assert_eq!(FinalNaming::Overwrite.final_key("media", FOLDER, "a.txt"), "media/a.txt");
    }
}
