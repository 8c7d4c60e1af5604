// s3file: `<script type="module" src="/pkg/s3file.js">` is all a page needs. File inputs whose
// form (or themselves) carry `data-s3file`, or django-s3file's markup, then upload straight to
// S3 on submit (PROTOCOL.md, "Widget events"; the API's types are in s3file.d.ts). This
// module finishes loading once the widget listens, so `await import("/pkg/s3file.js")` tells
// when it is ready.
import init, { abort, changed, clicked, submitted, upgrade, upload } from "./s3file_wasm.js";

await init();

// One listener per event on the document serves every form, also those added later. `submit`
// bubbles to it after the forms' own listeners, which may cancel the submission first.
document.addEventListener("submit", (event) => {
  if (!event.defaultPrevented && submitted(event.target, event.submitter)) event.preventDefault();
});
// Capturing, to see a click on a submit button before the browser validates its form.
document.addEventListener(
  "click",
  (event) => {
    const button = event.target.closest?.("button,input[type=submit],input[type=image]");
    if (button?.form && (button.type === "submit" || button.type === "image")) clicked(button.form);
  },
  true,
);
// Only other files chosen concern the widget; editing a text field mid-upload does not.
document.addEventListener("change", (event) => event.target.type === "file" && changed(event.target));
upgrade();

export { abort, upgrade, upload };
