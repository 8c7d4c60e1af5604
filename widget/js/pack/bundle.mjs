import { dirname, resolve } from 'node:path';

// One module compresses better than the entry, the glue and the snippets apart, and the page
// fetches one file instead of several. What the widget imports only when it needs it (the
// checksums, `import()`ed at the first upload; gzip, with the first file the signer would store
// compressed; the progress bars bound with markup, with the first progress of a form or input
// that binds one) becomes a module of its own,
// `s3file_<name>.js`, which the page fetches then.

/**
 * Answers a function that bundles an entry with all it imports into minified ES modules, in the
 * entry's directory: `{path, text}` of the entry's module first, then of each module it imports
 * on demand. Loaded before pack changes any file, so a missing esbuild leaves the package as it
 * was.
 */
export async function bundler() {
  const esbuild = await loadEsbuild();
  return async (entryPath) => {
    const bundled = await esbuild.build({
      entryPoints: [entryPath],
      bundle: true,
      splitting: true,
      outdir: dirname(entryPath),
      chunkNames: 's3file_[name]',
      format: 'esm',
      minify: true,
      target: 'es2022',
      legalComments: 'none',
      write: false,
    });
    const entry = resolve(entryPath);
    const modules = bundled.outputFiles.map(({ path, text }) => ({ path, text }));
    if (modules.filter(({ path }) => path === entry).length !== 1) {
      throw new Error(`esbuild did not write ${entry} once: ${modules.map(({ path }) => path).join(', ')}`);
    }
    return modules.sort((a, b) => (b.path === entry) - (a.path === entry));
  };
}

/** Bundles the worker script at `sourcePath` with what it imports into one minified module at
 *  `outPath` (a worker fetches one file, and its imports would be fetched one by one); answers
 *  `outPath`. */
export async function bundleWorker(sourcePath, outPath) {
  const esbuild = await loadEsbuild();
  await esbuild.build({
    entryPoints: [sourcePath],
    bundle: true,
    outfile: outPath,
    format: 'esm',
    minify: true,
    target: 'es2022',
    legalComments: 'none',
  });
  return outPath;
}

async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch (error) {
    throw new Error(`pack needs npm's esbuild (a devDependency of package.json): ${error.message}`);
  }
}
