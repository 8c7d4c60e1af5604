// s3file: `<script type="module" src="/pkg/s3file.js">` is all a page needs. File inputs whose
// form (or themselves) carry `data-s3file` then upload straight to S3 on submit; the events are
// `progress` and `s3file:error` (ARCHITECTURE.md, "Widget events"). This module finishes loading
// once the widget listens, so `await import("/pkg/s3file.js")` tells when it is ready.
import init from "./s3file_wasm.js";

await init();
