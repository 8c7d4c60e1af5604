//! `s3file-signer check --deploy`, as a deployment pipeline runs it.

use std::process::Command;

fn check_deploy(env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_s3file-signer"));
    command.args(["check", "--deploy"]).env_clear().env("AWS_EC2_METADATA_DISABLED", "true");
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
