//! Builds the Leptos demo (`s3file-leptos`'s `demo` binary) into `www/leptos/pkg/`. The page,
//! `www/leptos/index.html`, also loads the widget from `www/pkg/`: build that first.

use std::fs;
use std::time::Instant;

use crate::prerequisites::WidgetTools;
use crate::{run, step, Context, Project, Result};

/// The wasm features rustc enables by default for wasm32-unknown-unknown, which wasm-opt must
/// be told of (as for the widget: the stripped module no longer lists them).
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-multivalue",
    "--enable-reference-types",
];

pub fn build(project: &Project, tools: &WidgetTools) -> Result<()> {
    let started = Instant::now();
    step("building the Leptos demo (wasm)");
    run(project.cargo().args([
        "build",
        "-p",
        "s3file-leptos",
        "--bin",
        "demo",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]))
    .context("building the Leptos demo failed")?;

    let pkg = project.root.join("www/leptos/pkg");
    let wasm = project.target_dir.join("wasm32-unknown-unknown/wasm-release/demo.wasm");
    let mut bindgen = project.command(&tools.wasm_bindgen);
    bindgen
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&pkg)
        .args(["--out-name", "demo"])
        .arg(&wasm);
    run(&mut bindgen).context("generating the Leptos demo's JS bindings failed")?;

    let bindgen_wasm = pkg.join("demo_bg.wasm");
    let optimized = pkg.join("demo_bg.opt.wasm");
    let mut wasm_opt = project.command("node");
    wasm_opt
        .arg(&tools.wasm_opt)
        .arg("-Oz")
        .args(WASM_FEATURES)
        .args(["--strip-debug", "--strip-producers", "--strip-target-features"])
        .arg(&bindgen_wasm)
        .arg("-o")
        .arg(&optimized);
    run(&mut wasm_opt).context("optimising the Leptos demo's wasm failed")?;
    fs::rename(&optimized, &bindgen_wasm)
        .with_context(|| format!("cannot move {} to {}", optimized.display(), bindgen_wasm.display()))?;

    let size = fs::metadata(&bindgen_wasm).map(|m| m.len()).unwrap_or(0);
    step(&format!(
        "Leptos demo built in {}s: {} ({size} bytes of wasm)",
        started.elapsed().as_secs(),
        pkg.display()
    ));
    Ok(())
}
