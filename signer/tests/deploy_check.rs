//! `s3file-signer check --deploy`, as a deployment pipeline runs it.

use std::process::Command;

fn check_deploy(env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_s3file-signer"));
    command.args(["check", "--deploy", "--offline"]).env_clear().env("AWS_EC2_METADATA_DISABLED", "true");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("the signer runs");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

const STRONG_SECRET: &str = "0123456789abcdef0123456789abcdef0123456789";

#[test]
fn dev_mode_fails_the_deploy_check() {
    let (ok, stderr) = check_deploy(&[("S3FILE_DEV", "true"), ("S3FILE_SECRET_KEY", STRONG_SECRET)]);
    assert!(!ok);
    assert!(stderr.contains("dev store"), "{stderr}");
}

#[test]
fn a_weak_secret_fails_the_deploy_check() {
    let (ok, stderr) =
        check_deploy(&[("AWS_STORAGE_BUCKET_NAME", "media"), ("S3FILE_SECRET_KEY", "changeme")]);
    assert!(!ok);
    assert!(stderr.contains("S3FILE_SECRET_KEY"), "{stderr}");
}

#[test]
fn a_sound_production_configuration_passes() {
    let (ok, stderr) =
        check_deploy(&[("AWS_STORAGE_BUCKET_NAME", "media"), ("S3FILE_SECRET_KEY", STRONG_SECRET)]);
    assert!(ok, "{stderr}");
}

/// The gzip settings from the environment, under django-storages' names.
#[test]
fn gzip_settings_come_from_the_environment() {
    let sound = [("AWS_STORAGE_BUCKET_NAME", "media"), ("S3FILE_SECRET_KEY", STRONG_SECRET)];
    let with = |extra: &[(&'static str, &'static str)]| [&sound[..], extra].concat();
    let (ok, stderr) =
        check_deploy(&with(&[("AWS_IS_GZIPPED", "True"), ("GZIP_CONTENT_TYPES", "text/css, text/plain")]));
    assert!(ok, "{stderr}");
    let (ok, stderr) = check_deploy(&with(&[("AWS_IS_GZIPPED", "True"), ("GZIP_CONTENT_TYPES", "text/*")]));
    assert!(!ok);
    assert!(stderr.contains("GZIP_CONTENT_TYPES") && stderr.contains("text/*"), "{stderr}");
    let (ok, stderr) = check_deploy(&with(&[("AWS_IS_GZIPPED", "perhaps")]));
    assert!(!ok);
    assert!(stderr.contains("perhaps"), "{stderr}");
}

#[test]
fn a_settings_file_beats_the_environment_and_loses_to_flags() {
    let dir = std::env::temp_dir().join(format!("s3file-deploy-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s3file.toml");
    std::fs::write(&path, format!("bucket_name = \"media\"\nsecret_key = \"{STRONG_SECRET}\"\n")).unwrap();
    let config = path.to_str().unwrap();
    // The environment's weak secret loses to the file's strong one.
    let (ok, stderr) = check_deploy(&[("S3FILE_CONFIG", config), ("S3FILE_SECRET_KEY", "changeme")]);
    assert!(ok, "{stderr}");
    // A flag's weak secret wins over the file.
    let output = Command::new(env!("CARGO_BIN_EXE_s3file-signer"))
        .args(["check", "--deploy", "--offline", "--config", config, "--secret-key", "changeme"])
        .env_clear()
        .output()
        .unwrap();
    assert!(!output.status.success());
}

/// Runs the signer with only `env` and waits up to five seconds for it to exit: `None` when it is
/// still running by then (it started), else whether it succeeded and what it printed.
fn run_briefly(args: &[&str], env: &[(&str, &str)]) -> Option<(bool, String)> {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let store = std::env::temp_dir().join(format!("s3file-deploy-check-store-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_s3file-signer"))
        .args(args)
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("S3FILE_LISTEN", "127.0.0.1:0")
        .env("S3FILE_DEV_STORE_DIR", &store)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the signer runs");
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let _ = std::fs::remove_dir_all(&store);
    status.map(|status| (status.success(), stderr))
}

/// Every way of starting the signer that would sign or verify, with the settings in `env`.
const STARTS: [&[&str]; 4] = [&["serve"], &[], &["sweep"], &["check"]];

/// Fake but well-formed keys, so that S3 mode starts without asking any credential service.
const KEYS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
];

#[test]
fn without_a_bucket_nothing_starts_unless_dev_mode_is_asked_for() {
    for args in STARTS {
        let outcome = run_briefly(args, &[("S3FILE_SECRET_KEY", STRONG_SECRET)]);
        let Some((ok, stderr)) = outcome else { panic!("{args:?} started without a bucket or S3FILE_DEV") };
        assert!(!ok, "{args:?}: {stderr}");
        assert!(stderr.contains("AWS_STORAGE_BUCKET_NAME") && stderr.contains("--dev"), "{args:?}: {stderr}");
    }
    for dev in ["true", "1", "yes", "on"] {
        let (ok, stderr) =
            run_briefly(&["check"], &[("S3FILE_DEV", dev), ("S3FILE_SECRET_KEY", STRONG_SECRET)]).unwrap();
        assert!(ok, "S3FILE_DEV={dev}: {stderr}");
    }
    // Dev mode, asked for, starts.
    assert_eq!(run_briefly(&["serve"], &[("S3FILE_DEV", "true")]), None);
    assert_eq!(run_briefly(&["serve", "--dev"], &[]), None);
}

#[test]
fn dev_mode_and_a_bucket_exclude_each_other() {
    let env =
        [("S3FILE_DEV", "true"), ("AWS_STORAGE_BUCKET_NAME", "media"), ("S3FILE_SECRET_KEY", STRONG_SECRET)];
    for args in STARTS {
        let (ok, stderr) = run_briefly(args, &env).expect("the signer stops");
        assert!(!ok, "{args:?}: {stderr}");
        assert!(stderr.contains("S3FILE_DEV"), "{args:?}: {stderr}");
    }
}

#[test]
fn weak_or_empty_secrets_stop_the_signer_at_start() {
    let weak = "0123456789abcdef0123456789abcde"; // 31 bytes
    let cases: [(&str, &[(&str, &str)]); 6] = [
        ("a weak secret in dev mode", &[("S3FILE_DEV", "true"), ("S3FILE_SECRET_KEY", weak)]),
        ("an empty secret in dev mode", &[("S3FILE_DEV", "true"), ("S3FILE_SECRET_KEY", "")]),
        ("a weak secret", &[("AWS_STORAGE_BUCKET_NAME", "media"), ("S3FILE_SECRET_KEY", "changeme")]),
        (
            "a weak fallback secret",
            &[
                ("AWS_STORAGE_BUCKET_NAME", "media"),
                ("S3FILE_SECRET_KEY", STRONG_SECRET),
                ("S3FILE_FALLBACK_SECRET_KEYS", "old"),
            ],
        ),
        (
            "an empty fallback secret",
            &[
                ("AWS_STORAGE_BUCKET_NAME", "media"),
                ("S3FILE_SECRET_KEY", STRONG_SECRET),
                ("S3FILE_FALLBACK_SECRET_KEYS", "0123456789abcdef0123456789abcdef0123456789,"),
            ],
        ),
        (
            "a weak fallback secret in dev mode",
            &[
                ("S3FILE_DEV", "true"),
                ("S3FILE_SECRET_KEY", STRONG_SECRET),
                ("S3FILE_FALLBACK_SECRET_KEYS", weak),
            ],
        ),
    ];
    for (case, env) in cases {
        let env: Vec<(&str, &str)> = env.iter().copied().chain(KEYS).collect();
        for args in [&["serve"][..], &["check"], &["check", "--deploy", "--offline"]] {
            let Some((ok, stderr)) = run_briefly(args, &env) else { panic!("{case}: {args:?} started") };
            assert!(!ok, "{case}: {args:?}: {stderr}");
            assert!(stderr.contains("SECRET_KEY"), "{case}: {args:?}: {stderr}");
        }
    }
}

#[test]
fn an_empty_fallback_variable_means_no_fallback_secrets() {
    let env = [
        ("AWS_STORAGE_BUCKET_NAME", "media"),
        ("S3FILE_SECRET_KEY", STRONG_SECRET),
        ("S3FILE_FALLBACK_SECRET_KEYS", ""),
    ];
    let env: Vec<(&str, &str)> = env.into_iter().chain(KEYS).collect();
    let (ok, stderr) = check_deploy(&env);
    assert!(ok, "{stderr}");
    assert_eq!(run_briefly(&["serve"], &env), None);
}

const CLOUDFRONT_KEY: &str = include_str!("fixtures/cloudfront/rsa2048.pkcs1.pem");
const EC_KEY: &str = include_str!("fixtures/cloudfront/ec-p256.pem");

/// A CloudFront key that cannot sign, or that lacks what it signs for, stops every command at
/// start, naming AWS_CLOUDFRONT_KEY; a sound one passes the deploy check and serves.
#[test]
fn an_unusable_cloudfront_key_stops_the_signer_at_start() {
    let truncated = &CLOUDFRONT_KEY[..CLOUDFRONT_KEY.len() / 2];
    let domain = ("AWS_S3_CUSTOM_DOMAIN", "d111111abcdef8.cloudfront.net");
    let id = ("AWS_CLOUDFRONT_KEY_ID", "K2JCJMDEHXQW5F");
    let cases: [(&str, Vec<(&str, &str)>); 6] = [
        ("garbage", vec![domain, id, ("AWS_CLOUDFRONT_KEY", "not a key")]),
        ("a truncated key", vec![domain, id, ("AWS_CLOUDFRONT_KEY", truncated)]),
        ("an EC key", vec![domain, id, ("AWS_CLOUDFRONT_KEY", EC_KEY)]),
        ("a key without its id", vec![domain, ("AWS_CLOUDFRONT_KEY", CLOUDFRONT_KEY)]),
        ("an id without its key", vec![domain, id]),
        ("a key without a custom domain", vec![id, ("AWS_CLOUDFRONT_KEY", CLOUDFRONT_KEY)]),
    ];
    let base = [("AWS_STORAGE_BUCKET_NAME", "media"), ("S3FILE_SECRET_KEY", STRONG_SECRET)];
    for (case, env) in cases {
        let env: Vec<(&str, &str)> = base.into_iter().chain(env).chain(KEYS).collect();
        for args in [&["serve"][..], &["check"], &["check", "--deploy", "--offline"]] {
            let Some((ok, stderr)) = run_briefly(args, &env) else { panic!("{case}: {args:?} started") };
            assert!(!ok, "{case}: {args:?}: {stderr}");
            assert!(stderr.contains("AWS_CLOUDFRONT_KEY"), "{case}: {args:?}: {stderr}");
            let key_material = CLOUDFRONT_KEY.lines().nth(1).unwrap();
            assert!(!stderr.contains(key_material), "{case}: {args:?} printed the key: {stderr}");
        }
    }
    let sound: Vec<(&str, &str)> =
        base.into_iter().chain([domain, id, ("AWS_CLOUDFRONT_KEY", CLOUDFRONT_KEY)]).chain(KEYS).collect();
    let (ok, stderr) = check_deploy(&sound);
    assert!(ok, "{stderr}");
    assert_eq!(run_briefly(&["serve"], &sound), None);
}
