//! A TOML settings file between the command line and the environment.
//!
//! Precedence is flags > file > environment > defaults. Clap already puts flags before the
//! environment; the file's settings are turned into flags placed *before* the user's own, and
//! later flags win (`args_override_self`), which gives exactly that order. Keys are the flags'
//! names with underscores, as in django-storages: `bucket_name = "media"`, `location = "uploads"`,
//! `object_parameters = { CacheControl = "max-age=86400" }`.

use std::path::Path;

use anyhow::Context;

/// The file's settings as command-line arguments.
pub fn file_args(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("read the settings file {}", path.display()))?;
    args_from_toml(&text).with_context(|| format!("in the settings file {}", path.display()))
}

pub fn args_from_toml(text: &str) -> anyhow::Result<Vec<String>> {
    let table: toml::Table = toml::from_str(text).context("not valid TOML")?;
    let mut args = Vec::new();
    for (key, value) in table {
        if key == "config" {
            anyhow::bail!("a settings file cannot name another settings file");
        }
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            anyhow::bail!(
                "{key:?} is not a setting name (use the lower-case names of `--help`, such as bucket_name)"
            );
        }
        let value = match value {
            toml::Value::String(text) => text,
            toml::Value::Integer(number) => number.to_string(),
            toml::Value::Boolean(flag) => flag.to_string(),
            toml::Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    // The list becomes one comma-separated flag: a comma inside an item would
                    // split it in two.
                    toml::Value::String(text) if text.contains(',') => {
                        anyhow::bail!("{key}: an item of the list holds a comma")
                    }
                    toml::Value::String(text) => Ok(text),
                    other => anyhow::bail!("{key}: lists may only hold strings, found {}", other.type_str()),
                })
                .collect::<anyhow::Result<Vec<_>>>()?
                .join(","),
            // object_parameters and the like: JSON is what the flag takes.
            toml::Value::Table(table) => serde_json::to_string(&table).context("convert a table to JSON")?,
            other => anyhow::bail!("{key}: unsupported value of type {}", other.type_str()),
        };
        args.push(format!("--{}", key.replace('_', "-")));
        args.push(value);
    }
    Ok(args)
}

/// Inserts `file_args` into `argv` where they count as the user's flags but lose to them: after
/// the program name and the subcommand, if any.
pub fn with_file_args(argv: &[String], file_args: Vec<String>) -> Vec<String> {
    let at = match argv.get(1).map(String::as_str) {
        Some("serve" | "check" | "sweep") => 2,
        _ => 1.min(argv.len()),
    };
    let mut merged = argv[..at].to_vec();
    merged.extend(file_args);
    merged.extend_from_slice(&argv[at..]);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_settings_into_flags() {
        let args = args_from_toml(
            r#"
            bucket_name = "media"
            file_overwrite = false
            max_file_size = 1048576
            fallback_secret_keys = ["old", "older"]
            object_parameters = { CacheControl = "max-age=60" }
            "#,
        )
        .unwrap();
        let pairs: Vec<(&str, &str)> =
            args.chunks(2).map(|pair| (pair[0].as_str(), pair[1].as_str())).collect();
        assert!(pairs.contains(&("--bucket-name", "media")));
        assert!(pairs.contains(&("--file-overwrite", "false")));
        assert!(pairs.contains(&("--max-file-size", "1048576")));
        assert!(pairs.contains(&("--fallback-secret-keys", "old,older")));
        assert!(pairs.contains(&("--object-parameters", r#"{"CacheControl":"max-age=60"}"#)));
        // An empty list is an empty flag, which the settings read as no secrets at all.
        assert_eq!(args_from_toml("fallback_secret_keys = []").unwrap(), ["--fallback-secret-keys", ""]);
        assert_eq!(args_from_toml("dev = true").unwrap(), ["--dev", "true"]);
    }

    #[test]
    fn refuses_what_is_not_a_setting() {
        assert!(args_from_toml("AWS_STORAGE_BUCKET_NAME = 'x'").is_err());
        assert!(args_from_toml("config = 'other.toml'").is_err());
        assert!(args_from_toml("bucket_name = [1, 2]").is_err());
        assert!(args_from_toml("not toml").is_err());
        assert!(args_from_toml("fallback_secret_keys = ['a,b']").is_err());
    }

    #[test]
    fn file_flags_go_after_the_subcommand_and_before_the_users() {
        let argv = |items: &[&str]| items.iter().map(|item| item.to_string()).collect::<Vec<_>>();
        let file = argv(&["--location", "file"]);
        assert_eq!(
            with_file_args(&argv(&["s3file-signer", "serve", "--location", "flag"]), file.clone()),
            argv(&["s3file-signer", "serve", "--location", "file", "--location", "flag"])
        );
        assert_eq!(
            with_file_args(&argv(&["s3file-signer", "--www", "w"]), file.clone()),
            argv(&["s3file-signer", "--location", "file", "--www", "w"])
        );
        assert_eq!(
            with_file_args(&argv(&["s3file-signer", "sweep", "--older-than-hours", "1"]), file.clone()),
            argv(&["s3file-signer", "sweep", "--location", "file", "--older-than-hours", "1"])
        );
    }
}
