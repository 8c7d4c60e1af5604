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
    let (ok, stderr) = check_deploy(&[("S3FILE_SECRET_KEY", STRONG_SECRET)]);
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
