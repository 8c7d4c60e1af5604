//! The settings' checks, and the configuration they give.

use super::*;

/// What `check --deploy` warns about, for settings that are valid.
fn warnings(settings: &Settings) -> Vec<String> {
    Config::from_settings(settings).unwrap().deploy_warnings()
}

fn parse(args: &[&str]) -> Settings {
    let mut argv = vec!["s3file-signer"];
    argv.extend_from_slice(args);
    <Cli as clap::Parser>::try_parse_from(argv).unwrap().settings
}

#[test]
fn dev_mode_fails_the_deploy_check() {
    let settings = parse(&["--dev", "--secret-key", &"x".repeat(40)]);
    assert!(settings.is_dev_mode());
    assert!(settings.errors().is_empty());
    assert_eq!(warnings(&settings).len(), 1);
    assert!(warnings(&settings)[0].contains("dev store"));
}

#[test]
fn a_sound_production_configuration_passes() {
    let settings = parse(&["--bucket-name", "b", "--secret-key", &"x".repeat(40)]);
    assert_eq!(settings.errors(), Vec::<String>::new());
    assert_eq!(warnings(&settings), Vec::<String>::new());
}

#[test]
fn the_checksum_is_the_one_the_store_verifies_unless_set_and_off_is_warned_about() {
    let secret = "x".repeat(40);
    let cases: [(&[&str], UploadChecksum); 7] = [
        (&["--bucket-name", "b"], UploadChecksum::Md5),
        (
            &["--bucket-name", "b", "--endpoint-url", "https://s3.eu-west-3.amazonaws.com"],
            UploadChecksum::Md5,
        ),
        (&["--bucket-name", "b", "--endpoint-url", "http://127.0.0.1:8333"], UploadChecksum::Crc32),
        (&["--dev"], UploadChecksum::Md5),
        (&["--bucket-name", "b", "--checksum", "crc32"], UploadChecksum::Crc32),
        (
            &["--bucket-name", "b", "--endpoint-url", "http://127.0.0.1:8333", "--checksum", "md5"],
            UploadChecksum::Md5,
        ),
        (&["--bucket-name", "b", "--checksum", "off"], UploadChecksum::Off),
    ];
    for (args, expected) in cases {
        let mut args = args.to_vec();
        args.extend(["--secret-key", &secret]);
        let config = Config::from_settings(&parse(&args)).unwrap();
        assert_eq!(config.uploads.checksum, expected, "{args:?}");
        let warned = config.deploy_warnings().iter().any(|warning| warning.contains("S3FILE_CHECKSUM"));
        assert_eq!(warned, expected == UploadChecksum::Off, "{args:?}");
    }
}

#[test]
fn production_needs_a_strong_secret() {
    let settings = parse(&["--bucket-name", "b"]);
    assert!(settings.errors().iter().any(|e| e.contains("S3FILE_SECRET_KEY")));
    let weak = parse(&["--bucket-name", "b", "--secret-key", "short"]);
    assert!(weak.errors().iter().any(|e| e.contains("shorter")));
}

#[test]
fn half_a_key_pair_is_an_error() {
    let settings = parse(&["--bucket-name", "b", "--secret-key", "s", "--access-key-id", "AKID"]);
    assert!(settings.errors().iter().any(|e| e.contains("AWS_SECRET_ACCESS_KEY")));
}

#[test]
fn invalid_combinations_fail_with_the_setting_named() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["--session-profile", "p", "--s3-access-key-id", "a", "--s3-secret-access-key", "s"],
            "AWS_S3_SESSION_PROFILE",
        ),
        (&["--custom-domain", "cdn.example.com/"], "AWS_S3_CUSTOM_DOMAIN"),
        (&["--custom-domain", "https://cdn.example.com"], "AWS_S3_CUSTOM_DOMAIN"),
        (&["--signature-version", "s3"], "AWS_S3_SIGNATURE_VERSION"),
        (&["--object-parameters", "{\"Bogus\": 1}"], "AWS_S3_OBJECT_PARAMETERS"),
        (&["--url-protocol", "ftp:"], "AWS_S3_URL_PROTOCOL"),
    ];
    for (args, setting) in cases {
        let errors = parse(args).errors();
        assert!(errors.iter().any(|e| e.contains(setting)), "{args:?}: {errors:?}");
    }
}

#[test]
fn s3_specific_keys_win() {
    let settings = parse(&[
        "--access-key-id",
        "general",
        "--secret-access-key",
        "g",
        "--s3-access-key-id",
        "specific",
        "--s3-secret-access-key",
        "s",
    ]);
    assert_eq!(settings.explicit_keys(), Some(("specific", "s")));
    assert_eq!(
        parse(&["--access-key-id", "a", "--secret-access-key", "b"]).explicit_keys(),
        Some(("a", "b"))
    );
}

#[test]
fn plain_http_with_use_ssl_is_a_deploy_warning() {
    let settings = parse(&[
        "--bucket-name",
        "b",
        "--secret-key",
        &"x".repeat(40),
        "--endpoint-url",
        "http://s3.internal",
    ]);
    assert!(warnings(&settings).iter().any(|w| w.contains("http://")));
    let off = parse(&[
        "--bucket-name",
        "b",
        "--secret-key",
        &"x".repeat(40),
        "--endpoint-url",
        "http://s3.internal",
        "--use-ssl",
        "false",
    ]);
    assert!(warnings(&off).is_empty());
}

#[test]
fn booleans_read_like_django_settings() {
    assert!(!parse(&["--file-overwrite", "False"]).file_overwrite);
    assert!(parse(&["--file-overwrite", "true"]).file_overwrite);
    // Off unless asked for: with it on, one upload can replace another's object.
    assert!(!parse(&[]).file_overwrite);
}

#[test]
fn overwriting_is_a_deploy_warning() {
    let strong = "x".repeat(40);
    let on = parse(&["--bucket-name", "b", "--secret-key", &strong, "--file-overwrite", "true"]);
    let on = warnings(&on);
    assert!(on.iter().any(|w| w.contains("AWS_S3_FILE_OVERWRITE")), "{on:?}");
    let off = parse(&["--bucket-name", "b", "--secret-key", &strong]);
    assert_eq!(warnings(&off), Vec::<String>::new());
}

/// Settings from a TOML file, placed as `Cli::parse_with_file` places them.
fn parse_toml(toml: &str, args: &[&str]) -> Settings {
    let mut argv = vec!["s3file-signer".to_owned()];
    argv.extend(args.iter().map(|arg| arg.to_string()));
    let file_args = crate::config_file::args_from_toml(toml).unwrap();
    <Cli as clap::Parser>::try_parse_from(crate::config_file::with_file_args(&argv, file_args))
        .unwrap()
        .settings
}

#[test]
fn without_a_bucket_dev_mode_must_be_asked_for() {
    let strong = "x".repeat(40);
    let neither = parse(&["--secret-key", &strong]);
    assert!(!neither.is_dev_mode());
    let errors = neither.errors();
    assert!(
        errors.iter().any(|e| e.contains("AWS_STORAGE_BUCKET_NAME") && e.contains("--dev")),
        "{errors:?}"
    );
    for dev in [
        parse(&["--dev", "--secret-key", &strong]),
        parse(&["--dev", "true", "--secret-key", &strong]),
        parse(&["--dev=yes", "--secret-key", &strong]),
        parse_toml("dev = true", &["--secret-key", &strong]),
    ] {
        assert!(dev.is_dev_mode());
        assert_eq!(dev.errors(), Vec::<String>::new());
    }
    assert!(!parse(&["--dev", "false", "--bucket-name", "b"]).is_dev_mode());
    // A flag wins over the file.
    assert!(!parse_toml("dev = true", &["--dev", "false"]).is_dev_mode());
}

#[test]
fn dev_mode_and_a_bucket_exclude_each_other() {
    let settings = parse(&["--dev", "--bucket-name", "b", "--secret-key", &"x".repeat(40)]);
    let errors = settings.errors();
    assert!(
        errors.iter().any(|e| e.contains("S3FILE_DEV") && e.contains("AWS_STORAGE_BUCKET_NAME")),
        "{errors:?}"
    );
}

#[test]
fn weak_or_empty_secrets_are_errors_in_every_mode() {
    let strong = "x".repeat(MIN_SECRET_LEN);
    let weak = "x".repeat(MIN_SECRET_LEN - 1);
    for mode in [&["--dev"][..], &["--bucket-name", "b"]] {
        for secret in ["", weak.as_str(), "changeme"] {
            let mut args = mode.to_vec();
            args.extend(["--secret-key", secret]);
            let errors = parse(&args).errors();
            assert!(errors.iter().any(|e| e.contains("S3FILE_SECRET_KEY")), "{args:?}: {errors:?}");
        }
        for fallbacks in
            [weak.clone(), format!("{strong},"), format!("{strong},,{strong}"), format!("{strong},short")]
        {
            let mut args = mode.to_vec();
            args.extend(["--secret-key", &strong, "--fallback-secret-keys", &fallbacks]);
            let errors = parse(&args).errors();
            assert!(errors.iter().any(|e| e.contains("S3FILE_FALLBACK_SECRET_KEYS")), "{args:?}: {errors:?}");
        }
        let mut args = mode.to_vec();
        args.extend(["--secret-key", &strong]);
        assert_eq!(parse(&args).errors(), Vec::<String>::new(), "{args:?}");
    }
    // Dev mode may go without a secret: it makes a strong random one.
    assert_eq!(parse(&["--dev"]).errors(), Vec::<String>::new());
    let from_file = parse_toml(&format!("bucket_name = \"b\"\nsecret_key = \"{weak}\""), &[]);
    assert!(from_file.errors().iter().any(|e| e.contains("S3FILE_SECRET_KEY")));
    let fallback_from_file = parse_toml(
        &format!(
            "bucket_name = \"b\"\nsecret_key = \"{strong}\"\nfallback_secret_keys = [\"{strong}\", \"old\"]"
        ),
        &[],
    );
    assert!(fallback_from_file.errors().iter().any(|e| e.contains("S3FILE_FALLBACK_SECRET_KEYS")));
}

#[test]
fn an_empty_fallback_list_means_no_fallback_secrets() {
    let strong = "x".repeat(MIN_SECRET_LEN);
    let flag = parse(&["--bucket-name", "b", "--secret-key", &strong, "--fallback-secret-keys", ""]);
    assert_eq!(flag.fallback_secret_keys, Vec::<String>::new());
    assert_eq!(flag.errors(), Vec::<String>::new());
    let file = parse_toml(
        &format!("bucket_name = \"b\"\nsecret_key = \"{strong}\"\nfallback_secret_keys = []"),
        &[],
    );
    assert_eq!(file.fallback_secret_keys, Vec::<String>::new());
    assert_eq!(file.errors(), Vec::<String>::new());
    let old = "o".repeat(MIN_SECRET_LEN);
    let two = parse(&["--secret-key", &strong, "--fallback-secret-keys", &format!("{old},{strong}")]);
    assert_eq!(two.fallback_secret_keys, [old, strong]);
}

/// `AWS_IS_GZIPPED` and `GZIP_CONTENT_TYPES` from flags and the settings file, with
/// django-storages' defaults.
#[test]
fn gzip_settings_read_like_django_settings() {
    use crate::gzip::Gzip;
    let strong = "x".repeat(MIN_SECRET_LEN);
    let gzip = |settings: Settings| Config::from_settings(&settings).unwrap().gzip;
    assert_eq!(gzip(parse(&["--dev"])), Gzip::Off);
    let defaults = gzip(parse(&["--dev", "--is-gzipped", "True"]));
    for listed in
        ["text/css", "text/javascript", "application/javascript", "application/x-javascript", "image/svg+xml"]
    {
        assert!(defaults.applies_to(listed), "{listed}");
    }
    assert!(!defaults.applies_to("text/plain"));
    let flags =
        gzip(parse(&["--dev", "--is-gzipped", "true", "--gzip-content-types", "text/plain, TEXT/CSV"]));
    assert!(flags.applies_to("text/csv") && flags.applies_to("text/plain") && !flags.applies_to("text/css"));
    let file = parse_toml(
        &format!("bucket_name = \"b\"\nsecret_key = \"{strong}\"\nis_gzipped = true\ngzip_content_types = [\"application/json\"]"),
        &[],
    );
    let file = gzip(file);
    assert!(file.applies_to("application/json; charset=utf-8") && !file.applies_to("text/css"));
    // A flag wins over the file.
    assert_eq!(gzip(parse_toml("is_gzipped = true", &["--dev", "--is-gzipped", "false"])), Gzip::Off);
}

#[test]
fn bad_gzip_settings_are_errors_naming_them() {
    let cases: [(&[&str], &str); 4] = [
        (&["--is-gzipped", "true", "--gzip-content-types", "text/*"], "GZIP_CONTENT_TYPES"),
        (&["--gzip-content-types", "css"], "GZIP_CONTENT_TYPES"),
        (&["--is-gzipped", "true", "--gzip-content-types", ""], "GZIP_CONTENT_TYPES"),
        (
            &["--is-gzipped", "true", "--object-parameters", r#"{"ContentEncoding": "br"}"#],
            "AWS_S3_OBJECT_PARAMETERS",
        ),
    ];
    for (args, setting) in cases {
        let mut args = args.to_vec();
        args.push("--dev");
        let errors = parse(&args).errors();
        assert!(errors.iter().any(|e| e.contains(setting)), "{args:?}: {errors:?}");
    }
    // Without gzip, a ContentEncoding parameter is the operator's own business.
    let alone = parse(&["--dev", "--object-parameters", r#"{"ContentEncoding": "br"}"#]);
    assert_eq!(alone.errors(), Vec::<String>::new());
    let not_a_boolean =
        <Cli as clap::Parser>::try_parse_from(["s3file-signer", "--is-gzipped", "maybe"]).unwrap_err();
    assert!(not_a_boolean.to_string().contains("--is-gzipped"), "{not_a_boolean}");
}
