//! `cargo xtask bench signer`: the signer's sign throughput and latency next to Django + boto3,
//! its credential cache, and finalize's server-side copy (tests/bench/signer.mjs, BENCHMARKS.md);
//! then what hostile clients cost it: a huge form field, connections that stall in their request
//! head (tests/bench/hostile.mjs).
//! Separate from `cargo xtask bench` because it needs a release build and takes a few minutes.

use std::path::PathBuf;

use crate::seaweedfs::SeaweedFs;
use crate::{prerequisites, run, step, test_env, Context, Error, Project, Result};

pub fn bench() -> Result<()> {
    let project = Project::locate()?;
    let wrk = prerequisites::ensure_wrk()?;
    let weed = prerequisites::ensure_weed()?;
    let python = prerequisites::ensure_bench_venv(&project)?;
    let signer_bin = build_release_signer(&project)?;

    let s3 = SeaweedFs::start(&weed, &project.target_dir.join("xtask"))?;
    step("measuring the signer: sign under load (and Django's), cached credentials, finalize");
    let mut bench = project.command("node");
    bench
        .arg("tests/bench/signer.mjs")
        .envs(test_env(&s3, &signer_bin))
        .env("S3FILE_BENCH_PYTHON", &python)
        .env("S3FILE_BENCH_WRK", &wrk)
        .env("S3FILE_BENCH_COMMAND", "cargo xtask bench signer");
    let result = run(&mut bench).context("the signer benchmark failed");
    drop(s3);
    result?;
    step("measuring the signer under hostile clients: a huge form field, stalled connections");
    let mut hostile = project.command("node");
    hostile
        .arg("tests/bench/hostile.mjs")
        .env("S3FILE_SIGNER_BIN", &signer_bin)
        .env("S3FILE_BENCH_COMMAND", "cargo xtask bench signer");
    run(&mut hostile).context("the hostile-client benchmark failed")
}

/// The release build is what is measured: the debug build the tests use is several times slower.
fn build_release_signer(project: &Project) -> Result<PathBuf> {
    step("building the signer (release)");
    // With the dev store: the hostile-client benchmark runs the signer in dev mode.
    run(project.cargo().args(["build", "--release", "-p", "s3file-signer", "--features", "dev-store"]))
        .context("building the release signer failed")?;
    let signer_bin = project.target_dir.join("release").join("s3file-signer");
    if !signer_bin.is_file() {
        return Err(Error::new(format!(
            "cargo built the release signer, but {} does not exist",
            signer_bin.display()
        )));
    }
    Ok(signer_bin)
}
