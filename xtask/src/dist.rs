//! Assembles the npm package's `dist/` (package.json's `files`) from the widget build in
//! `www/pkg/` and the widget's TypeScript declarations in `widget/js/`.

use std::fs;

use crate::{step, Context, Error, Project, Result};

/// Whether `dist/` must have the TypeScript declarations (package.json's `types`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Declarations {
    /// For `npm pack`: a package whose `types` names a missing file is not packed.
    Required,
    /// For the tests, which bundle the JS and never read the declarations.
    IfWritten,
}

/// The declarations of the JS API and the event detail types, written with the widget.
const DECLARATIONS: &str = "widget/js/s3file.d.ts";

/// Each file of `dist/`, and where it comes from (relative to the project root).
const FILES: [(&str, &str); 8] = [
    // The entry (package.json's `exports`): widget/js/s3file.js with wasm-bindgen's glue and the
    // widget's own JS bundled in, minified. It finds the wasm with
    // `new URL('s3file_wasm_bg.wasm', import.meta.url)`, which bundlers follow.
    ("s3file.js", "www/pkg/s3file.js"),
    ("s3file_wasm_bg.wasm", "www/pkg/s3file_wasm_bg.wasm"),
    // The checksums, which the entry imports (`import("./s3file_digest.js")`) at the first
    // upload; they start workers (`new Worker(new URL('./s3file_digest_worker.js',
    // import.meta.url), {type: 'module'})`), which hash with the wasm beside them.
    ("s3file_digest.js", "www/pkg/s3file_digest.js"),
    ("s3file_digest_worker.js", "www/pkg/s3file_digest_worker.js"),
    ("s3file_digest.wasm", "www/pkg/s3file_digest.wasm"),
    // Gzip for text types, which the checksums import (`import("./s3file_gzip.js")`) with the
    // first file the signer offers to store compressed.
    ("s3file_gzip.js", "www/pkg/s3file_gzip.js"),
    // The progress bars bound with `data-s3file-progress`, which the entry imports
    // (`import("./s3file_progress.js")`) with the first `progress` of a form or input that
    // has the attribute.
    ("s3file_progress.js", "www/pkg/s3file_progress.js"),
    // The JS API and the event detail types, written with the widget.
    ("s3file.d.ts", DECLARATIONS),
];

/// Copies the files into a fresh `dist/`. Run it right after `widget::build`: it checks that the
/// wasm is the optimised one and the package the packed one.
pub fn assemble(project: &Project, declarations: Declarations) -> Result<()> {
    let skip_declarations =
        declarations == Declarations::IfWritten && !project.root.join(DECLARATIONS).is_file();
    if skip_declarations {
        step(&format!("warning: {DECLARATIONS} does not exist yet: dist/ has no TypeScript declarations"));
    }
    let files: Vec<_> =
        FILES.iter().filter(|(_, source)| !(skip_declarations && *source == DECLARATIONS)).collect();
    let missing: Vec<_> = files
        .iter()
        .map(|(_, source)| project.root.join(source))
        .filter(|source| !source.is_file())
        .map(|source| source.display().to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Error::new(format!(
            "cannot assemble dist/, missing: {} (widget/js/ is written with the widget; www/pkg/ is \
             what the widget build makes)",
            missing.join(", ")
        )));
    }

    let wasm_path = project.root.join("www/pkg/s3file_wasm_bg.wasm");
    let wasm = fs::read(&wasm_path).with_context(|| format!("cannot read {}", wasm_path.display()))?;
    let sections =
        custom_section_names(&wasm).with_context(|| format!("cannot read {}", wasm_path.display()))?;
    if sections.iter().any(|name| name == "producers") {
        return Err(Error::new(format!(
            "{} still has the `producers` section that wasm-opt strips: it is not the optimised \
             build, so it is not packed",
            wasm_path.display()
        )));
    }
    // widget/js/pack.mjs bundles the JS snippets wasm-bindgen copies there into the entry.
    let snippets = project.root.join("www/pkg/snippets");
    if snippets.exists() {
        return Err(Error::new(format!(
            "{} exists: www/pkg/ is not the packed build (widget/js/pack.mjs bundles the snippets \
             into the entry), so it is not packed",
            snippets.display()
        )));
    }

    let dist = project.root.join("dist");
    if dist.exists() {
        fs::remove_dir_all(&dist).with_context(|| format!("cannot remove {}", dist.display()))?;
    }
    fs::create_dir_all(&dist).with_context(|| format!("cannot create {}", dist.display()))?;
    let mut total = 0;
    for (name, source) in files {
        let (from, to) = (project.root.join(source), dist.join(name));
        total += fs::copy(&from, &to)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    step(&format!("package assembled: {} ({total} bytes, {} of them wasm)", dist.display(), wasm.len()));
    Ok(())
}

/// The names of a wasm module's custom sections, in order.
fn custom_section_names(wasm: &[u8]) -> Result<Vec<String>> {
    let mut rest = wasm
        .strip_prefix(b"\0asm\x01\0\0\0")
        .ok_or_else(|| Error::new("not a WebAssembly module (version 1)"))?;
    let mut names = Vec::new();
    while let Some((&id, after_id)) = rest.split_first() {
        rest = after_id;
        let size = leb128_u32(&mut rest)?;
        if size > rest.len() {
            return Err(Error::new("a section runs past the end of the module"));
        }
        let (mut section, after) = rest.split_at(size);
        rest = after;
        if id == 0 {
            let length = leb128_u32(&mut section)?;
            let name =
                section.get(..length).ok_or_else(|| Error::new("a section name runs past its section"))?;
            names.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    Ok(names)
}

/// Reads an unsigned LEB128 number of at most 32 bits, as wasm writes sizes.
fn leb128_u32(bytes: &mut &[u8]) -> Result<usize> {
    let mut value = 0u64;
    for shift in (0..35).step_by(7) {
        let (&byte, rest) =
            bytes.split_first().ok_or_else(|| Error::new("the module ends inside a number"))?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return u32::try_from(value)
                .map(|value| value as usize)
                .map_err(|_| Error::new("a size does not fit in 32 bits"));
        }
    }
    Err(Error::new("a number is longer than 5 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &[u8] = b"\0asm\x01\0\0\0";

    fn custom(name: &str, payload: &[u8]) -> Vec<u8> {
        let mut body = vec![name.len() as u8];
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(payload);
        let mut section = vec![0, body.len() as u8];
        section.extend(body);
        section
    }

    #[test]
    fn finds_custom_sections_between_others() {
        let mut wasm = HEADER.to_vec();
        wasm.extend([1, 4, 1, 0x60, 0, 0]); // a type section: one `() -> ()`
        wasm.extend(custom("name", b"\x01\x02"));
        wasm.extend(custom("producers", b""));
        assert_eq!(custom_section_names(&wasm).unwrap(), ["name", "producers"]);
    }

    #[test]
    fn reads_multi_byte_sizes() {
        let mut wasm = HEADER.to_vec();
        let payload = vec![7; 200];
        let mut body = vec![3];
        body.extend_from_slice(b"big");
        body.extend(&payload);
        wasm.extend([0, 0x80 | (body.len() & 0x7f) as u8, (body.len() >> 7) as u8]);
        wasm.extend(body);
        assert_eq!(custom_section_names(&wasm).unwrap(), ["big"]);
    }

    #[test]
    fn refuses_what_is_not_a_module() {
        assert!(custom_section_names(b"<html>").is_err());
        let mut truncated = HEADER.to_vec();
        truncated.extend([1, 9, 1]);
        assert!(custom_section_names(&truncated).is_err());
    }
}
