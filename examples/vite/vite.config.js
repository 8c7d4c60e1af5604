// From the repository root: `npx vite build examples/vite` writes the page to examples/vite/dist/,
// which the signer serves:
// `cargo run -p s3file-signer --features dev-store -- serve --dev --www examples/vite/dist`.
// `npx vite examples/vite` serves it for development, passing the form's requests on to a signer (`cargo xtask demo`
// starts one in dev mode on 127.0.0.1:8000; S3FILE_SIGNER_URL names another).
import { defineConfig } from 'vite';

const signer = process.env.S3FILE_SIGNER_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  root: import.meta.dirname,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    proxy: {
      '/s3file/': signer,
    },
  },
});
