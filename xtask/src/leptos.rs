//! Builds the Leptos demo (`s3file-leptos`'s `demo` binary) into `www/leptos/pkg/`. The page,
//! `www/leptos/index.html`, also loads the widget from `www/pkg/`: build that first.

use std::fs;
use std::time::Instant;

use crate::prerequisites::WidgetTools;
use crate::{run, step, Context, Project, Result};

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
    crate::widget::optimise(project, tools, &bindgen_wasm)
        .context("optimising the Leptos demo's wasm failed")?;

    let size = fs::metadata(&bindgen_wasm).map(|m| m.len()).unwrap_or(0);
    step(&format!(
        "Leptos demo built in {}s: {} ({size} bytes of wasm)",
        started.elapsed().as_secs(),
        pkg.display()
    ));
    Ok(())
}
