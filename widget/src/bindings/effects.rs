//! The widget's effects on the page, carried out by `widget/js/effects.js`: Rust decides, the
//! JS only does it (DOM plumbing is several times smaller in JS than in wasm).
//!
//! The events are the page's API (PROTOCOL.md, "Widget events"):
//!
//! - `progress`, as django-s3file 7 dispatches it: on the form, then on the input, not
//!   bubbling, with `detail` `progress`, `loaded` and `total` (of all the form's files on the
//!   form, of the input's files on the input), `currentFile`, `currentFileName`,
//!   `currentFileProgress` and `originalEvent` (the XHR's `ProgressEvent`). One per upload
//!   progress event, and one when each file is stored.
//! - Our own, all bubbling: `s3file:start` on the form (`detail` `files`, `total`),
//!   `s3file:done` on the input for each stored file (`key`, `name`, `size`, `field`) and
//!   `s3file:error` on the input for each failure (`message`, `field`, `fileName`, which is
//!   `null` when the failure concerns all the input's files).

use alloc::string::String;

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use web_sys::{File, FormData, HtmlElement, HtmlFormElement, HtmlInputElement};

use crate::bindings::xhr::Xhr;

#[wasm_bindgen(module = "/js/effects.js")]
extern "C" {
    /// Marks the form busy (`aria-busy`, its enabled submit buttons disabled) or not.
    pub fn busy(form: &HtmlFormElement, on: bool);

    /// Says `text` in the form's live region, which it adds if the form has none.
    pub fn announce(form: &HtmlFormElement, text: &str);

    /// Adds the form's live region if it has none, before anything is said in it.
    #[wasm_bindgen(js_name = announce)]
    pub fn prepare_live_region(form: &HtmlFormElement);

    /// Dispatches `progress` on the form, then on the input, each with its `{progress,
    /// loaded, total}`: of the form's files, of the input's.
    pub fn progress(
        form: &HtmlFormElement,
        input: &HtmlInputElement,
        file: &File,
        file_progress: f64,
        original: &JsValue,
        of_form: &Object,
        of_input: &Object,
    );

    /// Dispatches `s3file:start` on the form.
    pub fn started(form: &HtmlFormElement, files: usize, total: f64);

    /// Dispatches `s3file:done` on the input.
    pub fn stored(input: &HtmlInputElement, key: &str, file: &File, field: &str);

    /// Adds a failure to `reports`: its input, message, field and file name (`undefined` when
    /// the failure concerns all the input's files).
    pub fn report(
        reports: &Array,
        input: &HtmlInputElement,
        message: &str,
        field: &str,
        file_name: Option<&str>,
    );

    /// Hands the form back with the `reports` gathered by `report`: dispatches `s3file:error`
    /// on each report's input (and logs its message), says `announcement` in the live region,
    /// and shows the first report's input's validity message.
    pub fn failed(form: &HtmlFormElement, reports: &Array, announcement: &str);

    /// The file inputs of `form` the browser would submit, with files.
    #[wasm_bindgen(js_name = fileInputs)]
    pub fn file_inputs(form: &HtmlFormElement) -> Array;

    /// The file inputs under `root` (the document when `undefined`) that belong to a form.
    #[wasm_bindgen(js_name = formFileInputs)]
    pub fn form_file_inputs(root: &JsValue) -> Array;

    /// The JSON text of a sign request: each file with its upload id to resume (`upload_ids`,
    /// by file, `undefined` for none), and `resume`, the kept upload whose folder and signature
    /// to resume in (`undefined` for none); `accept` and `max_size` are left out when `None`.
    #[wasm_bindgen(js_name = signBody)]
    pub fn sign_body(
        field: &str,
        files: &Array,
        upload_ids: &Array,
        accept: Option<&str>,
        max_size: Option<f64>,
        resume: &JsValue,
    ) -> JsValue;

    /// What [`remember`] kept for `file` of `field` (`{folder, signature, uploadId}`), else
    /// `undefined`.
    pub fn recall(field: &str, file: &File) -> JsValue;

    /// The `<Key>` of S3's XML answer to an upload, through `decodeURI` with `decode`.
    #[wasm_bindgen(js_name = storedKey)]
    pub fn stored_key(xhr: &Xhr, decode: bool) -> Option<String>;

    /// Why S3 refused an upload: the `<Message>` of its XML answer, else its `<Code>`.
    pub fn refusal(xhr: &Xhr) -> Option<String>;

    /// The POST django-s3file's markup on `input` describes, as a sign answer's file would:
    /// `{fields}`, each `data-fields-<name>` as `<name>`, in attribute order, then
    /// `success_action_status` `201`.
    #[wasm_bindgen(js_name = markupPost)]
    pub fn markup_post(input: &HtmlInputElement) -> Object;

    /// When the policy among a POST's `fields` expires, in Unix milliseconds; NaN when unknown.
    #[wasm_bindgen(js_name = policyExpiry)]
    pub fn policy_expiry(post: &JsValue) -> f64;

    /// Bytes `start` to `end` of `file`, as a `Blob`; nothing is read.
    pub fn slice(file: &File, start: f64, end: f64) -> JsValue;

    /// S3's error `<Code>` in the XML answer to an upload.
    #[wasm_bindgen(js_name = errorCode)]
    pub fn error_code(xhr: &Xhr) -> Option<String>;

    /// Keeps the multipart upload `multipart` (the signer's object) of `file` to `key` for
    /// `field` across page loads: its key's folder, the folder signature and its upload id.
    pub fn remember(field: &str, file: &File, key: &str, signature: &str, multipart: &JsValue);

    /// Forgets what [`remember`] kept for `file` of `field`: its upload completed, or was given up.
    pub fn forget(field: &str, file: &File);

    /// The JSON body of a request about the multipart upload `multipart` (the signer's object)
    /// of `key`; `parts` (part numbers) only when not empty.
    #[wasm_bindgen(js_name = multipartBody)]
    pub fn multipart_body(key: &str, multipart: &JsValue, parts: &Array) -> JsValue;

    /// Asks the signer at `url` to abort a multipart upload, with a request that outlives the page.
    pub fn abandon(url: &str, key: &str, multipart: &JsValue);

    /// Settles the JS API's promise: `settle(value)`, with `settle` its `resolve` or `reject`.
    pub fn settle(settle: &js_sys::Function, value: &JsValue);

    /// `[promise, resolve, reject]`.
    pub fn deferred() -> Array;

    /// The multipart body of a POST (its `fields` in order, then `Content-Type` if given, then
    /// `file` under `name`), which goes compressed when `post` has `gzip` and that is smaller.
    #[wasm_bindgen(js_name = uploadBody)]
    pub fn upload_body(post: &JsValue, content_type: Option<&str>, file: &File, name: &str) -> FormData;

    /// Adds a hidden input per entry (`entries` alternates names and values) and takes the
    /// names of `inputs`; with `submit`, submits the form natively as `submitter` would have,
    /// and puts it back as it was.
    #[wasm_bindgen(js_name = handOver)]
    pub fn hand_over(
        form: &HtmlFormElement,
        submitter: Option<HtmlElement>,
        inputs: &Array,
        entries: &Array,
        submit: bool,
    );
}

// effects.js imports digest.js (which imports gzip.js) and progress.js; naming them here has
// wasm-bindgen copy them next to effects.js.
#[wasm_bindgen(module = "/js/digest.js")]
extern "C" {
    #[allow(dead_code)]
    fn checksum(blob: &JsValue, name: &str) -> JsValue;
}

#[wasm_bindgen(module = "/js/gzip.js")]
extern "C" {
    #[allow(dead_code)]
    fn compressed(form: &JsValue, fields: &JsValue, read: &JsValue) -> JsValue;
}

#[wasm_bindgen(module = "/js/progress.js")]
extern "C" {
    #[allow(dead_code)]
    fn show(target: &JsValue, totals: &JsValue);
}
