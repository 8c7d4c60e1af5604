// Importing the package is enough: its entry starts the widget, which then serves every form with
// `data-s3file` on submit. Here 's3file' resolves to this repository's own package.json, as it
// would to node_modules/s3file after `npm install s3file`. Vite bundles the wasm next to the JS
// (wasm-bindgen's glue asks for it with `new URL('s3file_wasm_bg.wasm', import.meta.url)`).
import 's3file';

const form = document.getElementById('upload-form');
const bar = document.getElementById('progress');
const status = document.getElementById('status');

form.addEventListener('progress', (event) => {
  // The input's events bubble up to the form too: the form's own carry the whole form's progress.
  if (event.target !== form) return;
  const { progress, currentFileName } = event.detail;
  bar.value = progress;
  status.value = `${Math.round(progress * 100)} %, ${currentFileName}`;
});

form.addEventListener('s3file:error', (event) => {
  bar.value = 0;
  status.value = event.detail.message;
});
