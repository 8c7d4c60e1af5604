//! The cargo-fuzz targets in `fuzz/`: `cargo xtask fuzz` for long runs by hand, and the bounded
//! run that ends `cargo xtask test`.
//!
//! cargo-fuzz passes rustc unstable flags (sanitizers, coverage instrumentation); stable Rust takes
//! them with `RUSTC_BOOTSTRAP=1`, so no nightly toolchain is needed. The targets build into the
//! project's target directory (under `x86_64-unknown-linux-gnu/`, apart from ordinary builds).
//! Each run reads the committed seeds in `fuzz/corpus/<target>/` and writes what it finds to a
//! corpus of its own under `<target>/xtask/fuzz-corpus/`, kept between runs, so the seeds stay as
//! committed. A crashing input lands in `fuzz/artifacts/<target>/` (ignored by git).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Instant, SystemTime};

use crate::{prerequisites, run, step, Context, Error, Project, Result};

/// Every target, in the order they run.
pub const TARGETS: [&str; 6] =
    ["post_policy", "folder_token", "upload_key", "form", "sanitize_file_name", "field_rules"];

/// Seconds per target in `cargo xtask test`, unless `S3FILE_FUZZ_SECONDS` says otherwise.
const TEST_SECONDS: u64 = 20;
/// Seconds per target of `cargo xtask fuzz` when neither the command line nor
/// `S3FILE_FUZZ_SECONDS` says.
const LOCAL_SECONDS: u64 = 300;

/// The same for every build and run, or `cargo fuzz run` builds again. Sixteen codegen units
/// instead of cargo-fuzz's one build the signer's dependencies several times faster, for fuzzing
/// a little slower.
const BUILD_FLAGS: [&str; 2] = ["--codegen-units", "16"];

/// How long one input may take before libFuzzer calls it a hang: a parser that spends seconds
/// on a few kilobytes is a denial of service.
const INPUT_TIMEOUT_SECONDS: u64 = 10;

/// `cargo xtask fuzz [target|all] [seconds]`.
pub fn command(args: &[&str]) -> Result<()> {
    let (targets, seconds) = match args {
        [] => (&TARGETS[..], None),
        [seconds] if seconds.parse::<u64>().is_ok() => (&TARGETS[..], Some(*seconds)),
        [target] => (targets(target)?, None),
        [target, seconds] => (targets(target)?, Some(*seconds)),
        _ => return Err(Error::new(format!("usage: cargo xtask fuzz [target|all] [seconds], got {args:?}"))),
    };
    let seconds = match seconds {
        Some(seconds) => {
            seconds.parse().with_context(|| format!("{seconds:?} is not a number of seconds"))?
        }
        None => seconds_from_env(LOCAL_SECONDS)?,
    };
    run_targets(&Project::locate()?, targets, seconds)
}

/// The last step of `cargo xtask test`: the fuzz crate's formatting (it is not in the workspace
/// `cargo fmt --all` checks), then every target for `S3FILE_FUZZ_SECONDS` seconds.
pub fn test(project: &Project) -> Result<()> {
    let seconds = seconds_from_env(TEST_SECONDS)?;
    step("checking the fuzz targets' formatting");
    run(project.cargo().args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--check"])).context(
        "the fuzz targets' formatting is not clean: run `cargo fmt --manifest-path fuzz/Cargo.toml`",
    )?;
    run_targets(project, &TARGETS, seconds)
}

fn targets(name: &str) -> Result<&'static [&'static str]> {
    if name == "all" {
        return Ok(&TARGETS);
    }
    match TARGETS.iter().position(|target| *target == name) {
        Some(at) => Ok(&TARGETS[at..=at]),
        None => Err(Error::new(format!("no fuzz target {name:?}; the targets are {}", TARGETS.join(", ")))),
    }
}

/// `S3FILE_FUZZ_SECONDS`, or `default` when it is unset or empty.
fn seconds_from_env(default: u64) -> Result<u64> {
    match std::env::var("S3FILE_FUZZ_SECONDS") {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse()
            .with_context(|| format!("S3FILE_FUZZ_SECONDS={value:?} is not a number of seconds")),
        _ => Ok(default),
    }
}

/// Builds `targets` and runs each for `seconds`; 0 seconds skips fuzzing. Every target runs even
/// after one crashes; the error names the crashing inputs.
pub fn run_targets(project: &Project, targets: &[&str], seconds: u64) -> Result<()> {
    if seconds == 0 {
        step("fuzzing skipped (0 seconds per target)");
        return Ok(());
    }
    prerequisites::ensure_cargo_fuzz(project)?;
    let started = Instant::now();
    step(&format!("building the fuzz targets ({})", targets.join(", ")));
    let mut build = cargo_fuzz(project, "build");
    if let [target] = targets {
        build.arg(target);
    }
    run(&mut build).context("building the fuzz targets failed")?;
    let built_in = started.elapsed().as_secs();

    // Each target runs on one core for a fixed time: as many at once as there are cores.
    let at_once = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    let mut crashes = Vec::new();
    for batch in targets.chunks(at_once) {
        let running =
            batch.iter().map(|target| start_target(project, target, seconds)).collect::<Result<Vec<_>>>()?;
        for run in running {
            crashes.extend(run.finish()?);
        }
    }
    step(&format!(
        "fuzzing took {}s: build {built_in}s, {} target(s) for {seconds}s each, {at_once} at once",
        started.elapsed().as_secs(),
        targets.len()
    ));
    if crashes.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = crashes.iter().map(|path| format!("  {}", path.display())).collect();
    Err(Error::new(format!(
        "fuzzing found crashing inputs; reproduce one with \
         `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run {} <target> <input>`:\n{}",
        BUILD_FLAGS.join(" "),
        list.join("\n")
    )))
}

/// A fuzz target running in the background.
struct Running {
    target: String,
    child: std::process::Child,
    log_path: PathBuf,
    artifacts: PathBuf,
    started: SystemTime,
}

/// Starts one target for `seconds`, its output going to a log of its own.
fn start_target(project: &Project, target: &str, seconds: u64) -> Result<Running> {
    let fuzz_dir = project.root.join("fuzz");
    let seeds = fuzz_dir.join("corpus").join(target);
    let corpus = project.target_dir.join("xtask/fuzz-corpus").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let log_path = project.target_dir.join("xtask/fuzz-logs").join(format!("{target}.log"));
    for dir in [&corpus, &artifacts, &log_path.parent().expect("a log file is in a directory").to_path_buf()]
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let log =
        std::fs::File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    let stderr = log.try_clone().with_context(|| format!("cannot write {}", log_path.display()))?;

    step(&format!("fuzzing {target} for {seconds}s (log: {})", log_path.display()));
    let started = SystemTime::now();
    // The first corpus directory receives new inputs; the seeds are only read.
    let mut fuzz = cargo_fuzz(project, "run");
    fuzz.arg(target)
        .arg(&corpus)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"))
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(stderr));
    let child = fuzz.spawn().with_context(|| format!("cannot run `cargo fuzz run {target}`"))?;
    Ok(Running { target: target.to_owned(), child, log_path, artifacts, started })
}

impl Running {
    /// Waits for the target; returns the inputs it crashed on (a failure without one is an
    /// error).
    fn finish(mut self) -> Result<Vec<PathBuf>> {
        let target = &self.target;
        let status =
            self.child.wait().with_context(|| format!("cannot wait for `cargo fuzz run {target}`"))?;
        let output = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        if status.success() {
            step(&format!("{target}: {}", summary(&output)));
            return Ok(Vec::new());
        }

        let tail: Vec<&str> = output.lines().rev().take(60).collect();
        for line in tail.into_iter().rev() {
            eprintln!("{line}");
        }
        let crashes = new_files(&self.artifacts, self.started);
        if crashes.is_empty() {
            return Err(Error::new(format!(
                "`cargo fuzz run {target}` failed ({status}) without a crashing input; see {}",
                self.log_path.display()
            )));
        }
        for crash in &crashes {
            eprintln!("xtask: {target} crashed on {}", crash.display());
        }
        Ok(crashes)
    }
}

/// `cargo fuzz <subcommand>` in `fuzz/`, on stable Rust, building into the project's target dir.
fn cargo_fuzz(project: &Project, subcommand: &str) -> std::process::Command {
    let mut command = project.cargo();
    command
        .current_dir(project.root.join("fuzz"))
        .args(["fuzz", subcommand])
        .args(BUILD_FLAGS)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", &project.target_dir);
    command
}

/// libFuzzer's last figures: `Done 123 runs in 20 second(s)`, with coverage and corpus size.
fn summary(log: &str) -> String {
    let done = log.lines().rev().find(|line| line.starts_with("Done ")).unwrap_or("no run count");
    let stats = log
        .lines()
        .rev()
        .find_map(|line| {
            let at = line.find("cov: ")?;
            let end = line.find(" lim: ").or_else(|| line.find(" exec/s")).unwrap_or(line.len());
            line.get(at..end.max(at))
        })
        .unwrap_or_default();
    format!("{done}; {stats}").trim_end_matches("; ").to_owned()
}

/// Files in `dir` modified at or after `since`.
fn new_files(dir: &Path, since: SystemTime) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .filter(|entry| entry.metadata().and_then(|m| m.modified()).is_ok_and(|modified| modified >= since))
        .map(|entry| entry.path())
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_keeps_libfuzzers_last_figures() {
        let log = "\
#2\tINITED cov: 10 ft: 11 corp: 3/40b exec/s: 0 rss: 40Mb
#9000\tNEW    cov: 120 ft: 300 corp: 80/2Kb lim: 64 exec/s: 450 rss: 60Mb L: 12/64 MS: 1 CopyPart-
Done 9001 runs in 20 second(s)
";
        assert_eq!(summary(log), "Done 9001 runs in 20 second(s); cov: 120 ft: 300 corp: 80/2Kb");
    }

    #[test]
    fn targets_are_named_or_all() {
        assert_eq!(targets("all").unwrap(), &TARGETS);
        assert_eq!(targets("form").unwrap(), &["form"]);
        assert!(targets("nope").unwrap_err().to_string().contains("post_policy"));
    }

    #[test]
    fn every_target_has_seeds_and_a_bin() {
        let fuzz = Path::new("../fuzz");
        let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
        for target in TARGETS {
            assert!(manifest.contains(&format!("name = \"{target}\"")), "{target} is not a [[bin]]");
            let seeds = std::fs::read_dir(fuzz.join("corpus").join(target)).unwrap().count();
            assert!(seeds > 0, "{target} has no seeds");
        }
    }
}
