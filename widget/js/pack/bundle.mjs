// One module compresses better than the entry, the glue and the snippets apart, and the page
// fetches one file instead of several.

/**
 * Answers a function that bundles an entry with all it imports into one minified ES module's
 * text. Loaded before pack changes any file, so a missing esbuild leaves the package as it was.
 */
export async function bundler() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch (error) {
    throw new Error(`pack needs npm's esbuild (a devDependency of package.json): ${error.message}`);
  }
  return async (entryPath) => {
    const bundled = await esbuild.build({
      entryPoints: [entryPath],
      bundle: true,
      format: 'esm',
      minify: true,
      target: 'es2022',
      legalComments: 'none',
      write: false,
    });
    return bundled.outputFiles[0].text;
  };
}
