//! `cargo xtask`: the project's automation, in plain Rust with no dependencies.
//!
//! - `cargo xtask demo` builds the widget and serves the demo site with the signer in dev mode.
//! - `cargo xtask test` installs what the tests need, then runs every suite against one SeaweedFS.
//! - `cargo xtask dist` builds the widget and assembles the npm package's `dist/` (`npm pack` runs it).
//! - `cargo xtask bench` measures the widget's size, checksums, upload throughput, gzip and multipart uploads
//!   (BENCHMARKS.md).
//! - `cargo xtask bench signer` measures the release signer: sign under load, credentials, finalize,
//!   and what hostile clients cost it.
//! - `cargo xtask fuzz` runs the cargo-fuzz targets in fuzz/ (`test` runs them briefly too).

mod bench_signer;
mod dist;
mod fuzz;
mod leptos;
mod prerequisites;
mod seaweedfs;
mod widget;

use std::env;
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use seaweedfs::SeaweedFs;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  demo       build the widget, then serve www/ with the signer in dev mode
             (listens on S3FILE_LISTEN, default 127.0.0.1:8000)
  dist       build the widget, then assemble the npm package's files in dist/
             (package.json's prepack script, so `npm pack` runs it)
  test       check formatting and lints, install what the tests need, build,
             start SeaweedFS, run `cargo test --workspace` and `node --test tests/unit/ tests/e2e/`,
             then each fuzz target for S3FILE_FUZZ_SECONDS (default 20; 0 skips)
  seaweedfs  start SeaweedFS as `test` does and print the variables the tests read,
             for running one suite by hand; stops on Enter
  bench      build the widget and the signer, start SeaweedFS as `test` does, and print
             the widget's size, its checksums' speed and upload throughput (tests/bench/,
             BENCHMARKS.md);
             S3FILE_BENCH_MIB and S3FILE_BENCH_RUNS set the file size and run count; then
             a 64 MiB stylesheet with and without AWS_IS_GZIPPED (tests/bench/gzip.mjs); then
             multipart uploads of a 1 GiB file, 500 small files and renderer memory during a
             2 GiB upload (tests/bench/multipart.mjs, a few minutes, up to 2 GiB in temp files)
  bench signer
             build the release signer, start SeaweedFS, and measure sign requests/s and
             latency with wrk next to Django + boto3 under gunicorn, credential caching,
             and finalize of a 1 KiB and a 1 GiB object (tests/bench/signer.mjs, a few minutes);
             then its memory under a 100 MiB form field and /healthz latency while 500
             connections stall in their request head (tests/bench/hostile.mjs)
  fuzz [target|all] [seconds]
             build the cargo-fuzz targets in fuzz/ with stable Rust and run each for
             `seconds` (default S3FILE_FUZZ_SECONDS, else 300); crashes go to fuzz/artifacts/";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["demo"] => demo(),
        ["dist"] => dist(),
        ["test"] => test(),
        ["seaweedfs"] => seaweedfs(),
        ["bench"] => bench(),
        ["bench", "signer"] => bench_signer::bench(),
        ["fuzz", ref rest @ ..] => fuzz::command(rest),
        ["help" | "-h" | "--help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(Error::new(format!("unknown arguments {args:?}\n\n{USAGE}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn demo() -> Result<()> {
    let project = Project::locate()?;
    let tools = prerequisites::ensure_for_widget(&project)?;
    widget::build(&project, &tools)?;
    leptos::build(&project, &tools)?;
    let listen = env::var("S3FILE_LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    step(&format!(
        "starting the signer in dev mode: open http://{listen}/ once it listens (Ctrl-C stops it)"
    ));
    let mut signer = project.cargo();
    signer.args([
        "run",
        "-p",
        "s3file-signer",
        "--features",
        "dev-store",
        "--",
        "serve",
        "--dev",
        "--www",
        "www",
    ]);
    run(&mut signer).context("the demo signer stopped")
}

fn dist() -> Result<()> {
    let project = Project::locate()?;
    let tools = prerequisites::ensure_for_widget(&project)?;
    widget::build(&project, &tools)?;
    dist::assemble(&project, dist::Declarations::Required)
}

fn test() -> Result<()> {
    let project = Project::locate()?;
    let started = Instant::now();

    prerequisites::ensure_rust_components(&project)?;
    step("checking formatting");
    run(project.cargo().args(["fmt", "--all", "--check"]))
        .context("formatting is not clean: run `cargo fmt --all`")?;
    step("running clippy");
    let mut clippy = project.cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    run(&mut clippy).context(
        "clippy found problems: fix them (`cargo clippy --fix --workspace --all-targets` fixes some)",
    )?;

    let tools = prerequisites::ensure_for_tests(&project)?;
    let django_python = prerequisites::ensure_django_venv(&project)?;
    let cloudfront_python = prerequisites::ensure_cloudfront_venv(&project)?;
    widget::build(&project, &tools.widget)?;
    leptos::build(&project, &tools.widget)?;
    // The browser tests build the Vite example against the package in dist/.
    dist::assemble(&project, dist::Declarations::IfWritten)?;
    let signer_bin = build_signer(&project)?;

    let s3 = SeaweedFs::start(&tools.weed, &project.target_dir.join("xtask"))?;
    let mut env = test_env(&s3, &signer_bin);
    env.push(("S3FILE_DJANGO_PYTHON", django_python.display().to_string()));
    env.push(("S3FILE_CLOUDFRONT_PYTHON", cloudfront_python.display().to_string()));
    let suites: [(&str, Command); 2] = [
        ("cargo test --workspace", {
            let mut cargo_test = project.cargo();
            cargo_test.args(["test", "--workspace"]);
            cargo_test
        }),
        ("node --test tests/unit/ tests/e2e/", {
            let mut node_test = project.command("node");
            node_test.args(["--test", "tests/unit/", "tests/e2e/"]);
            node_test
        }),
    ];
    let mut failed = Vec::new();
    for (name, mut suite) in suites {
        step(&format!("running {name}"));
        if let Err(error) = run(suite.envs(env.iter().cloned())) {
            eprintln!("xtask: {error}");
            failed.push(name);
        }
    }
    drop(s3);
    if let Err(error) = fuzz::test(&project) {
        eprintln!("xtask: {error}");
        failed.push("cargo fuzz");
    }

    if !failed.is_empty() {
        return Err(Error::new(format!("test suites failed: {}", failed.join(", "))));
    }
    step(&format!(
        "all test suites passed in {}s: cargo test --workspace, node --test tests/unit/ tests/e2e/, cargo fuzz",
        started.elapsed().as_secs()
    ));
    Ok(())
}

/// Size, throughput and multipart figures, printed as markdown. The signer is the debug build the
/// tests use: it only signs and finalizes for SeaweedFS, but it is also the dev store that
/// receives the bytes.
fn bench() -> Result<()> {
    let project = Project::locate()?;
    let tools = prerequisites::ensure_for_tests(&project)?;
    widget::build(&project, &tools.widget)?;
    let signer_bin = build_signer(&project)?;

    step("measuring the widget's size");
    run(project.command("node").arg("tests/bench/size.mjs")).context("measuring the widget's size failed")?;
    step("measuring the widget's checksums");
    // The page comes from a dev-mode signer, which serves the built digest.js and its worker.
    let mut digest = project.command("node");
    digest.arg("tests/bench/digest.mjs").env("S3FILE_SIGNER_BIN", &signer_bin);
    run(&mut digest).context("measuring the checksums failed")?;

    let s3 = SeaweedFs::start(&tools.weed, &project.target_dir.join("xtask"))?;
    step("measuring upload throughput");
    let mut throughput = project.command("node");
    throughput
        .arg("tests/bench/throughput.mjs")
        .envs(test_env(&s3, &signer_bin))
        .env("S3FILE_BENCH_COMMAND", "cargo xtask bench");
    let result = run(&mut throughput).context("measuring upload throughput failed").and_then(|()| {
        step("measuring gzip for text types");
        let mut gzip = project.command("node");
        gzip.arg("tests/bench/gzip.mjs")
            .envs(test_env(&s3, &signer_bin))
            .env("S3FILE_BENCH_COMMAND", "cargo xtask bench");
        run(&mut gzip).context("measuring gzip for text types failed")
    });
    let result = result.and_then(|()| {
        step("measuring multipart uploads");
        let mut multipart = project.command("node");
        multipart
            .arg("tests/bench/multipart.mjs")
            .envs(test_env(&s3, &signer_bin))
            .env("S3FILE_BENCH_COMMAND", "cargo xtask bench");
        run(&mut multipart).context("measuring multipart uploads failed")
    });
    drop(s3);
    result
}

/// Builds the debug signer the test suites and the benchmark start, and returns its path.
/// Builds the signer as `cargo test --workspace` builds it, so the tests that follow compile
/// nothing again: with the tests' dev-dependencies, whose features (the dev store among them)
/// apply to the signer's dependencies too. A plain `cargo build -p s3file-signer` would build
/// every dependency a second time with other features.
fn build_signer(project: &Project) -> Result<PathBuf> {
    step("building the signer and the tests");
    run(project.cargo().args(["test", "--workspace", "--no-run"])).context("building the signer failed")?;
    let signer_bin = project.signer_bin();
    if !signer_bin.is_file() {
        return Err(Error::new(format!(
            "cargo built the signer, but {} does not exist",
            signer_bin.display()
        )));
    }
    Ok(signer_bin)
}

fn seaweedfs() -> Result<()> {
    let project = Project::locate()?;
    let weed = prerequisites::ensure_weed()?;
    let s3 = SeaweedFs::start(&weed, &project.target_dir.join("xtask"))?;
    println!();
    for (name, value) in test_env(&s3, &project.signer_bin()) {
        println!("export {name}='{value}'");
    }
    println!();
    step("press Enter to stop SeaweedFS");
    let _ = std::io::stdin().read_line(&mut String::new());
    Ok(())
}

/// The variables every test suite reads: where SeaweedFS and the signer binary are.
fn test_env(s3: &SeaweedFs, signer_bin: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("S3FILE_TEST_S3_ENDPOINT", s3.endpoint.clone()),
        ("S3FILE_TEST_S3_BUCKET", seaweedfs::BUCKET.to_owned()),
        ("S3FILE_TEST_S3_ACCESS_KEY", seaweedfs::ACCESS_KEY.to_owned()),
        ("S3FILE_TEST_S3_SECRET_KEY", seaweedfs::SECRET_KEY.to_owned()),
        ("S3FILE_TEST_S3_REGION", seaweedfs::REGION.to_owned()),
        ("S3FILE_SIGNER_BIN", signer_bin.display().to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}

/// Where the project lives and where cargo puts what it builds.
pub struct Project {
    pub root: PathBuf,
    /// `CARGO_TARGET_DIR` (made absolute) or `<root>/target`, like cargo itself.
    pub target_dir: PathBuf,
}

impl Project {
    fn locate() -> Result<Project> {
        // `cargo run` says where the manifest is when xtask runs. The path compiled in is only a
        // fallback: cargo reuses a build of the same sources from another checkout that shares
        // the target directory, and that path may be gone.
        let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir.parent().expect("xtask/ lies inside the project root").to_path_buf();
        let target_dir = match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => {
                let cwd = env::current_dir().context("cannot read the current directory")?;
                cwd.join(dir)
            }
            _ => root.join("target"),
        };
        Ok(Project { root, target_dir })
    }

    /// A command that runs in the project root.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command.current_dir(&self.root);
        command
    }

    /// The debug build of the signer, which the test suites start.
    pub fn signer_bin(&self) -> PathBuf {
        self.target_dir.join("debug").join("s3file-signer")
    }

    /// The cargo that runs this xtask, in the project root.
    pub fn cargo(&self) -> Command {
        self.command(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
    }
}

/// Announces what xtask does next, so a CI log reads as a list of steps.
pub fn step(what: &str) {
    println!("xtask: {what}");
}

/// Runs a command with inherited standard streams and fails unless it exits successfully.
pub fn run(command: &mut Command) -> Result<()> {
    println!("$ {}", display_command(command));
    let status = command.status().with_context(|| format!("cannot run `{}`", display_command(command)))?;
    if !status.success() {
        return Err(Error::new(format!("`{}` failed ({status})", display_command(command))));
    }
    Ok(())
}

/// Runs a command and returns its standard output; standard error goes to the terminal.
pub fn output(command: &mut Command) -> Result<String> {
    let output = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run `{}`", display_command(command)))?;
    if !output.status.success() {
        return Err(Error::new(format!("`{}` failed ({})", display_command(command), output.status)));
    }
    String::from_utf8(output.stdout)
        .with_context(|| format!("`{}` printed non-UTF-8 output", display_command(command)))
}

pub fn display_command(command: &Command) -> String {
    let mut shown = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        shown.push(' ');
        shown.push_str(&arg.to_string_lossy());
    }
    shown
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A message for people, with the context each layer added in front of the cause.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub trait Context<T> {
    fn context(self, context: impl fmt::Display) -> Result<T>;
    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|cause| Error(format!("{context}: {cause}")))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|cause| Error(format!("{}: {cause}", context())))
    }
}
