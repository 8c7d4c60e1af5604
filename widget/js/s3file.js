// s3file: `<script type="module" src="/pkg/s3file.js">` is all a page needs. File inputs whose
// form (or themselves) carry `data-s3file`, or django-s3file's markup, then upload straight to
// S3 on submit (ARCHITECTURE.md, "Widget events"; the API's types are in s3file.d.ts). This
// module finishes loading once the widget listens, so `await import("/pkg/s3file.js")` tells
// when it is ready.
import init, { abort, upgrade, upload } from "./s3file_wasm.js";

await init();

export { abort, upgrade, upload };
