//! Builds the widget into `www/pkg/`: the widget's JS entry, its wasm-bindgen glue, and the wasm,
//! optimised with wasm-opt (which also gives the wasm's imports and exports short names) and then
//! packed by `widget/js/pack.mjs` (the glue renamed to match, the JS snippets bundled into the
//! glue, the JS minified).

use std::fs;
use std::path::Path;

use crate::prerequisites::WidgetTools;
use crate::{display_command, output, run, step, Context, Error, Project, Result};

/// The wasm features rustc 1.95 enables by default for wasm32-unknown-unknown. wasm-opt must be
/// told, since `strip = true` removes the `target_features` section it would read them from, and
/// it refuses (or miscompiles, with older binaryen) modules that use features it was not told of.
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-multivalue",
    "--enable-reference-types",
];

pub fn build(project: &Project, tools: &WidgetTools) -> Result<()> {
    let entry = project.root.join("widget/js/s3file.js");
    if !entry.is_file() {
        return Err(Error::new(format!(
            "{} is missing: it is the widget's JS entry point, which the build copies to \
             www/pkg/s3file.js (the widget's author writes it)",
            entry.display()
        )));
    }

    step("building the widget and its checksum hasher (wasm)");
    run(project.cargo().args([
        "build",
        "-p",
        "s3file-widget",
        "-p",
        "s3file-digest",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]))
    .context("building the widget failed")?;

    let pkg = project.root.join("www/pkg");
    let wasm = project.target_dir.join("wasm32-unknown-unknown/wasm-release/s3file_widget.wasm");
    let mut bindgen = project.command(&tools.wasm_bindgen);
    bindgen.args(["--target", "web", "--out-dir"]).arg(&pkg).args(["--out-name", "s3file_wasm"]).arg(&wasm);
    run(&mut bindgen).context("generating the widget's JS bindings failed")?;

    let bindgen_wasm = pkg.join("s3file_wasm_bg.wasm");
    let renamings = optimise_with(project, tools, &bindgen_wasm, WIDGET_PASSES)
        .context("optimising the widget's wasm failed")?;
    let renamings_path = pkg.join(RENAMINGS);
    fs::write(&renamings_path, renamings)
        .with_context(|| format!("cannot write {}", renamings_path.display()))?;

    // The hasher runs for every byte uploaded: optimised for speed, not size.
    let digest_wasm = pkg.join(DIGEST_WASM);
    let built_digest = project.target_dir.join("wasm32-unknown-unknown/wasm-release/s3file_digest.wasm");
    fs::copy(&built_digest, &digest_wasm)
        .with_context(|| format!("cannot copy {} into {}", built_digest.display(), pkg.display()))?;
    wasm_opt(project, tools, &digest_wasm, &["-O3"])
        .context("optimising the checksum hasher's wasm failed")?;

    fs::copy(&entry, pkg.join("s3file.js"))
        .with_context(|| format!("cannot copy {} into {}", entry.display(), pkg.display()))?;
    pack(project, &pkg).context("packing the widget failed")?;
    // Once more over the packed wasm: the panic text pack blanked is zeros that need not ship
    // (wasm memory starts zeroed), and the functions called most go first, where their indices
    // take one byte; -Oz then shrinks what the new order allows, until it shrinks no more
    // (`--converge`: 141 bytes of the gzipped wasm against the order alone).
    optimise_with(project, tools, &bindgen_wasm, &["--reorder-functions", "-Oz", "--converge"])
        .context("optimising the packed wasm failed")?;
    let size = fs::metadata(&bindgen_wasm).map(|m| m.len()).unwrap_or(0);
    step(&format!("widget built: {} ({size} bytes of wasm)", pkg.display()));
    Ok(())
}

/// The checksum hasher (digest/), which the checksum worker fetches from beside itself.
const DIGEST_WASM: &str = "s3file_digest.wasm";

/// Where pack reads what `--minify-imports-and-exports-and-modules` renamed (the file goes once the
/// glue is renamed by it).
const RENAMINGS: &str = "s3file_wasm_bg.names.json";

/// Runs `widget/js/pack.mjs` over the package in `pkg` (wasm-bindgen's output, optimised, with
/// the entry, the renamings and the hasher's wasm): afterwards it is `s3file.js` (the entry
/// with the glue and the snippets it imported), `s3file_wasm_bg.wasm`, and what the first
/// upload fetches: `s3file_digest.js`, `s3file_digest_worker.js` and `s3file_digest.wasm`.
fn pack(project: &Project, pkg: &Path) -> Result<()> {
    run(project.command("node").arg(project.root.join("widget/js/pack.mjs")).arg(pkg))
}

/// wasm-opt passes the drop-in gets after the common ones: what each function's calls may do is
/// worked out first, for `-Oz` to drop calls that do nothing it needs; then its control flow
/// is flattened and rebuilt by the relooper, and shrunk again, twice (together about 190 bytes
/// of its gzipped wasm; the Leptos demo, a page of its own, is not worth the extra time). Its
/// imports and exports get short names in between, all imports one module, and wasm-opt prints
/// the renamings as JSON for pack to apply to the glue; in this run rather than one of pack's
/// own, since reading and writing the wasm once more costs about 40 bytes of the gzipped wasm
/// after the final `-Oz`.
const WIDGET_PASSES: &[&str] = &[
    "--generate-global-effects",
    "--flatten",
    "--rereloop",
    "-Oz",
    "--minify-imports-and-exports-and-modules",
    "--flatten",
    "--rereloop",
    "-Oz",
];

/// Runs wasm-opt (`--merge-similar-functions -Oz`) over wasm-bindgen's output in place, then checks that a JavaScript engine
/// compiles the result (wasm-opt validates what it reads, not what engines accept).
pub fn optimise(project: &Project, tools: &WidgetTools, wasm: &Path) -> Result<()> {
    optimise_with(project, tools, wasm, &[]).map(drop)
}

/// [`optimise`], with the wasm-opt `passes` after the common ones; answers what wasm-opt printed
/// (the renamings of a minifying pass).
fn optimise_with(project: &Project, tools: &WidgetTools, wasm: &Path, passes: &[&str]) -> Result<String> {
    // Functions that differ only in constants become one with a parameter, before -Oz.
    let passes: Vec<&str> = ["--merge-similar-functions", "-Oz"].iter().chain(passes).copied().collect();
    wasm_opt(project, tools, wasm, &passes)
}

/// Runs wasm-opt's `passes` over `wasm` in place, then checks that a JavaScript engine compiles
/// the result (wasm-opt validates what it reads, not what engines accept); answers what
/// wasm-opt printed.
fn wasm_opt(project: &Project, tools: &WidgetTools, wasm: &Path, passes: &[&str]) -> Result<String> {
    let optimized = wasm.with_extension("opt.wasm");
    let mut wasm_opt = project.command("node");
    wasm_opt
        .arg(&tools.wasm_opt)
        .args(passes)
        .args(WASM_FEATURES)
        .args(["--strip-debug", "--strip-producers", "--strip-target-features"])
        .arg(wasm)
        .arg("-o")
        .arg(&optimized);
    println!("$ {}", display_command(&wasm_opt));
    let printed = output(&mut wasm_opt)?;
    let mut compile = project.command("node");
    compile
        .args([
            "-e",
            "WebAssembly.compile(require('fs').readFileSync(process.argv[1]))\
             .catch((e) => { console.error(String(e)); process.exit(1); })",
        ])
        .arg(&optimized);
    run(&mut compile).with_context(|| {
        format!(
            "{} does not compile in Node's WebAssembly engine: check the wasm-opt feature flags",
            optimized.display()
        )
    })?;
    fs::rename(&optimized, wasm)
        .with_context(|| format!("cannot move {} to {}", optimized.display(), wasm.display()))?;
    Ok(printed)
}
