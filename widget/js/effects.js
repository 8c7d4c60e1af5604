// DOM effects of s3file's widget. The Rust side (widget/src/effects.rs) decides what to upload,
// where, what happened and what to say; these functions only carry it out on the page. They are
// written in JS because DOM plumbing is several times smaller here than in wasm.

// The widget's entry point for the events of its requests and timers, `answered(request,
// event, xhr, sent)`: an export of the glue, which wasm-bindgen writes three folders up from its
// copy of this file (`snippets/<crate>/js/`); the widget build bundles both into one module.
import { answered } from "../../../s3file_wasm.js";

/** The requests on their way, by the number the widget gave each (widget/src/bindings/xhr.rs). */
const requests = new Map();
/** digest.js, once the first checksum imported it. */
let digests;

/** Sends an upload, `{method, url, headers, body, stall, checksum}`, as request `request`: `headers` are name-value pairs (or none); its progress events are reported too
 *  (with the fraction of the body sent, 0 when the browser cannot tell), and it is aborted when
 *  it makes no progress for `stall` ms (a stalled connection would otherwise hang the form).
 *  With a `checksum` (see widget/src/upload.rs) or a POST body's `gzip` (`uploadBody`), digest.js first prepares
 *  the body (`prepare`): the file compressed, and the checksum of what goes. Its `loadend`,
 *  which comes once whatever happened, is reported. A file still being read when the stall
 *  timeout passes ends the request unsent, with `checksumStalled` set on it, and a file the
 *  browser will not read (changed on disk since it was chosen, or gone) with `fileChanged`.
 *  Returns whether it was sent (not when the browser refused, for a URL that does not parse,
 *  say). */
export function send(request, { method, url, headers, body, stall, checksum }) {
  const xhr = new XMLHttpRequest();
  let sent = false;
  // No progress for `stall` ms ends the request: a sent one is aborted, and so reported with
  // no answer; one still reading its file for the checksum is reported as such.
  const arm = () => {
    clearTimeout(xhr.stall);
    // A stopped request reads on until its checksum is done, but reports nothing.
    if (requests.get(request) !== xhr) return;
    xhr.stall = setTimeout(() => {
      if (sent) return xhr.abort();
      xhr.checksumStalled = true;
      unwatch(request);
      answered(request, undefined, xhr);
    }, stall);
  };
  // The body prepared, with its checksum header if it has one: unless the request was stopped
  // meanwhile.
  const go = ([prepared, header]) => {
    if (requests.get(request) !== xhr) return;
    if (header) xhr.setRequestHeader(...header);
    sent = true;
    arm();
    xhr.send(prepared);
  };
  return open(request, xhr, method, url, () => {
    for (const [name, value] of headers ?? []) xhr.setRequestHeader(name, value);
    // Browsers only report upload progress to listeners registered before `send()`.
    xhr.upload.onprogress = (event) => {
      arm();
      answered(request, event, undefined, event.lengthComputable ? event.loaded / event.total : 0);
    };
    if (!checksum && !body.gzip) return go([body]);
    // Reading the file counts toward the stall timeout too, each chunk read as progress: a
    // file that cannot be read (a hung network share) must not hang the form.
    arm();
    // Later, out of the widget's hands: a failure is reported as a request that got no answer.
    // The browser reads a file only as it was chosen: one changed on disk since, or gone, fails
    // to read (marked `fileChanged`), so a mix of old and new bytes never goes up.
    // digest.js computes checksums in Web Workers and prepares what a transfer sends. Imported
    // when the first file goes up (the browser fetches a module once), so a page that never
    // uploads never loads it; the widget build keeps it in a module of its own.
    import("./digest.js")
      .then((module) => (digests = module).prepare(body, checksum, arm))
      .then(go)
      .catch((error) => {
        if (requests.get(request) === xhr) {
          xhr.fileChanged = error.unreadable;
          unwatch(request);
          answered(request, undefined, xhr);
        }
      });
  });
}

/** A JSON POST of `body` to the signer at `url` as request `request`; the answer is parsed
 *  (an answer that is not JSON becomes `null`). Returns whether it was sent. */
export function ask(request, url, body) {
  const xhr = new XMLHttpRequest();
  return open(request, xhr, "POST", url, () => {
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.responseType = "json";
    xhr.send(body);
  });
}

/** Opens `xhr` as request `request`, reports its `loadend`, and lets `start` send it; returns
 *  whether that worked. */
function open(request, xhr, method, url, start) {
  try {
    xhr.open(method, url);
    xhr.onloadend = (event) => {
      unwatch(request);
      answered(request, event, xhr);
    };
    requests.set(request, xhr);
    start();
    return true;
  } catch {
    unwatch(request);
    return false;
  }
}

/** Stops reporting the events of request `request`. */
function unwatch(request) {
  const xhr = requests.get(request);
  if (!xhr) return;
  clearTimeout(xhr.stall);
  xhr.onloadend = xhr.upload.onprogress = null;
  requests.delete(request);
}

/** Stops request `request`: it reports nothing more, and is aborted. */
export function stop(request) {
  const xhr = requests.get(request);
  unwatch(request);
  xhr?.abort();
}

/** Reports `request`, a timer, in `ms` milliseconds: a retry's delay. */
export function later(ms, request) {
  setTimeout(() => answered(request), ms);
}

/** Reports `request` once the browser is online. */
export function whenOnline(request) {
  addEventListener("online", () => answered(request), { once: true });
}

export const isOnline = () => navigator.onLine;

/** Bytes `start` to `end` of `file`, as a `Blob`: nothing is read. The Blob keeps its `file`
 *  and `start`, for digest.js to hash the parts that follow ahead of their turn. */
export const slice = (file, start, end) => Object.assign(file.slice(start, end), { file, start });

/** S3's error `<Code>` in the XML answer to an upload (`xhr`). */
export const errorCode = (xhr) => xmlText(xhr, "Code")?.trim();

/** Where the multipart upload of `file` for form field `field` is kept between page loads:
 *  only its folder, signature and upload id, never file data. */
const saved = (field, file) => `s3file:${field}:${file.name}:${file.size}:${file.lastModified}`;

/** Keeps the multipart upload `multipart` (the signer's object) of `file` to `key`, signed with
 *  `signature`. */
export function remember(field, file, key, signature, multipart) {
  // For its completion (`multipartBody`).
  multipart.file = file;
  const folder = key.slice(0, key.lastIndexOf("/"));
  store(() => localStorage.setItem(saved(field, file), JSON.stringify({ folder, signature, uploadId: multipart.uploadId })));
}

/** Forgets the multipart upload kept for `file`: it completed, or was given up. */
export function forget(field, file) {
  store(() => localStorage.removeItem(saved(field, file)));
}

/** Storage may be full or off (private browsing): uploads then start over after a reload. */
function store(change) {
  try {
    change();
  } catch {}
}

/** The body of a request about the multipart upload `multipart` (the signer's object) of `key`
 *  (PROTOCOL.md, "Multipart endpoints"): its `parts` that need URLs, or, completing it, the
 *  CRC-64/NVME of each part (`crc64nvme`) when digest.js computed them all. */
export const multipartBody = (key, { uploadId, ticket, file }, parts) =>
  JSON.stringify({
    key,
    uploadId,
    ticket,
    ...(parts.length ? { parts } : { crc64nvme: digests?.partChecksums(file) }),
  });

/** Asks the signer at `url` to abort a multipart upload, leaving the page free to go: the
 *  request outlives it. */
export function abandon(url, key, multipart) {
  fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: multipartBody(key, multipart, []),
    keepalive: true,
  }).catch(() => {});
}

/** Buttons each busy form had enabled, to enable again. */
const disabledButtons = new WeakMap();

/** Whether a form control submits its form: a button of type submit, or an input of type submit or image. */
const submits = (control) => control.type === "submit" || control.type === "image";

/** Marks `form` busy (`aria-busy`, its enabled submit buttons disabled, also those outside it
 *  that name it with `form=`), or no longer busy. */
export function busy(form, on) {
  if (on) {
    form.setAttribute("aria-busy", "true");
    const buttons = [...form.elements].filter((control) => submits(control) && !control.disabled);
    for (const button of buttons) button.disabled = true;
    disabledButtons.set(form, buttons);
  } else {
    form.removeAttribute("aria-busy");
    for (const button of disabledButtons.get(form) ?? []) button.disabled = false;
    disabledButtons.delete(form);
  }
}

/** Says `text` in the form's live region: its `[data-s3file-status]` element, else a visually
 *  hidden `role=status` region added now. Without `text`, only makes sure the region exists:
 *  screen readers announce changes only of regions they have seen. */
export function announce(form, text) {
  let region = form.querySelector("[data-s3file-status]");
  if (!region) {
    region = document.createElement("div");
    region.setAttribute("data-s3file-status", "");
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    // Out of the flow, and clipped to nothing whatever padding or border the page's styles give
    // it: seen by no one, read by screen readers.
    region.style.cssText =
      "position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap";
    form.append(region);
  }
  if (text !== undefined) region.textContent = text;
}

/** What the page sees (its events, the hand-over, the API's promises) waits until the widget has
 *  returned, then runs in order, in one microtask: the page code it runs (listeners, the form's
 *  submission) may call the widget again, which must not find itself busy. */
const pending = [];
function afterReturn(effect) {
  if (pending.push(effect) > 1) return;
  queueMicrotask(() => {
    // Effects the page's code brings about meanwhile join the queue and run in this same turn.
    for (const effect of pending) {
      try {
        effect();
      } catch (error) {
        reportError(error);
      }
    }
    pending.length = 0;
  });
}

const dispatch = (target, type, detail, bubbles) =>
  afterReturn(() => target.dispatchEvent(new CustomEvent(type, { detail, bubbles })));

/** The bars bound with `data-s3file-progress` (progress.js), fetched with the first `progress`
 *  of a form or input that has the attribute: a page without bars never loads them. The widget
 *  build keeps them in a module of their own. */
let bars;

/** `progress` as django-s3file 7 dispatches it: on the form with the totals of all its files,
 *  `ofForm`, then on the input with the input's, `ofInput` (each `{progress, loaded, total}`),
 *  not bubbling. The same numbers go to the bars each binds, in the same order. */
export function progress(form, input, file, fileProgress, original, ofForm, ofInput) {
  for (const [target, totals] of [[form, ofForm], [input, ofInput]]) {
    if (target.hasAttribute("data-s3file-progress")) {
      (bars ??= import("./progress.js")).then((module) => module.show(target, totals));
    }
    dispatch(target, "progress", {
      ...totals,
      currentFile: file,
      currentFileName: file.name,
      currentFileProgress: fileProgress,
      originalEvent: original,
    });
  }
}

/** `s3file:start` on the form. */
export function started(form, files, total) {
  dispatch(form, "s3file:start", { files, total }, true);
}

/** `s3file:done` on the input. */
export function stored(input, key, file, field) {
  dispatch(input, "s3file:done", { key, name: file.name, size: file.size, field }, true);
}

/** Adds a failure to `reports`; `fileName` is undefined when it concerns all the input's files. */
export function report(reports, input, message, field, fileName) {
  reports.push([input, message, field, fileName]);
}

/** Hands `form` back with the failures in `reports`: `s3file:error` on each one's input, then
 *  `announcement` in the live region, then the first input's validity message in its bubble.
 *  The bars of the form and of those inputs go back to 0. */
export function failed(form, reports, announcement) {
  for (const [input, message, field, fileName] of reports) {
    console.error("s3file:", message);
    dispatch(input, "s3file:error", { message, field, fileName }, true);
  }
  // The bars go back to 0 after every number shown before; none was shown if none was loaded.
  bars?.then((module) => module.reset(form, reports));
  afterReturn(() => {
    announce(form, announcement);
    reports[0]?.[0].reportValidity();
  });
}

/** The file inputs of `form` the browser would submit, with files: named and enabled, in the
 *  form's `elements` (so also those outside it that name it with `form=`). */
export function fileInputs(form) {
  return [...form.elements].filter(
    (control) => control.type === "file" && control.name && !control.disabled && control.files.length,
  );
}

/** The file inputs under `root` (the document when undefined) that belong to a form. */
export function formFileInputs(root) {
  return [...(root ?? document).querySelectorAll("input[type=file]")].filter((input) => input.form);
}

/** The body of a sign request (PROTOCOL.md, `POST /s3file/sign`), as JSON text: each file with
 *  its upload id to resume (`uploadIds`, by file), and the kept upload `resume` whose folder and
 *  signature the field resumes in, as the widget chose them. */
export function signBody(field, files, uploadIds, accept, maxSize, resume) {
  const described = files.map(({ name, size, type }, index) => ({ name, size, type, uploadId: uploadIds[index] }));
  const folder = resume && { folder: resume.folder, signature: resume.signature };
  return JSON.stringify({ field, files: described, accept, max_size: maxSize, resume: folder });
}

/** What `remember` kept for `file` of `field`, or undefined. */
export function recall(field, file) {
  try {
    return JSON.parse(localStorage.getItem(saved(field, file))) ?? undefined;
  } catch {}
}

/** The `<Key>` of S3's XML answer to an upload (`xhr`), through `decodeURI` when `decode` (as
 *  django-s3file's script does; a key that cannot be decoded is kept as it is). */
export function storedKey(xhr, decode) {
  const key = xmlText(xhr, "Key");
  try {
    return decode ? decodeURI(key) : key;
  } catch {
    return key;
  }
}

/** Why S3 refused an upload (`xhr`): the `<Message>` of its XML answer, else its `<Code>`. */
export function refusal(xhr) {
  return xmlText(xhr, "Message")?.trim() || errorCode(xhr) || undefined;
}

/** The text of the first `<tag>` of the XML answer to `xhr`. */
const xmlText = (xhr, tag) =>
  new DOMParser().parseFromString(xhr.responseText, "text/xml").querySelector(tag)?.textContent;

/** The POST django-s3file's markup on `input` describes (see widget/src/presigned.rs), as the
 *  sign answer describes one: `{fields}`, each `data-fields-<name>` as `<name>`, in attribute
 *  order, then `success_action_status` `201`. */
export function markupPost(input) {
  const fields = {};
  for (const { name, value } of input.attributes) {
    if (name.startsWith("data-fields-") && name.length > 12) fields[name.slice(12)] = value;
  }
  fields.success_action_status = "201";
  return { fields };
}

/** When the policy among a POST's `fields` expires, in Unix milliseconds; NaN when it does not
 *  say. */
export function policyExpiry({ fields }) {
  try {
    return Date.parse(JSON.parse(atob(fields.policy)).expiration);
  } catch {
    return NaN;
  }
}

/** Settles the JS API's promise: `settle` is its `resolve` or `reject`. */
export const settle = (settle, value) => afterReturn(() => settle(value));

/** A promise and the functions that settle it. */
export function deferred() {
  let settle;
  const promise = new Promise((resolve, reject) => {
    settle = [resolve, reject];
  });
  return [promise, ...settle];
}

/** The body of a POST (`post`, the sign answer's object for the file): the policy's `fields` in
 *  order, then `Content-Type` when given, then the file (S3 ignores what follows it) under
 *  `name`. The `File` itself goes in, so its bytes never pass through wasm. The body keeps the
 *  answer's `gzip`, if any, for `send` to send the file compressed instead. */
export function uploadBody({ fields, gzip }, contentType, file, name) {
  const body = Object.assign(new FormData(), { gzip });
  for (const [field, value] of Object.entries(fields)) body.append(field, value);
  if (contentType !== undefined) body.append("Content-Type", contentType);
  body.append("file", file, name);
  return body;
}

/** The form's attributes that a submitter's `form…` attributes override for its submission.
 *  `formnovalidate` has no place here: `submit()` does not validate, and the form was validated
 *  (or not) before the upload started. */
const OVERRIDDEN = ["action", "method", "enctype", "target"];

/**
 * Puts the keys in place of the files: a hidden input per entry (`entries` alternates names and
 * values), and the file inputs `inputs` lose their name. With `submit`, then submits the form
 * natively as `submitter` would have, and puts it back as it was, in case the page stays (a
 * `target` elsewhere, the back-forward cache).
 *
 * `HTMLFormElement.prototype.submit` with the submitter's name, value and `form*` overrides
 * applied by hand, rather than `form.requestSubmit(submitter)` with a mark that lets the
 * widget's own listener pass: `requestSubmit` fires `submit` a second time, to every listener of
 * the page. A page that guards against double submission (a flag set in its `submit` listener,
 * a library that cancels a repeated submit) would cancel it, and the form would hang after its
 * files were uploaded; a `confirm()` would ask twice, analytics count twice. `submit()` runs no
 * page code but `formdata` listeners, and reads the action, method, enctype, target and entries
 * before it returns, so the form can be restored at once. What this gives up: an
 * `<input type=submit>` without a `value` sends an empty value (browsers send their own label),
 * and an image button sends no click coordinates.
 */
export const handOver = (...args) => afterReturn(() => handOverNow(...args));

function handOverNow(form, submitter, inputs, entries, submit) {
  const added = [];
  const add = (name, value) => {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
    added.push(input);
  };
  for (let index = 0; index < entries.length; index += 2) add(entries[index], entries[index + 1]);
  const names = inputs.map((input) => input.getAttribute("name"));
  for (const input of inputs) input.removeAttribute("name");
  if (!submit) return;

  const overridden = [];
  if (submitter) {
    if (submitter.name && submitter.type !== "image") add(submitter.name, submitter.value);
    for (const name of OVERRIDDEN) {
      if (!submitter.hasAttribute("form" + name)) continue;
      overridden.push([name, form.getAttribute(name)]);
      form.setAttribute(name, submitter.getAttribute("form" + name));
    }
  }
  // Not `form.submit()`, which a control named "submit" shadows.
  HTMLFormElement.prototype.submit.call(form);

  for (const [name, value] of overridden) {
    if (value === null) form.removeAttribute(name);
    else form.setAttribute(name, value);
  }
  for (const input of added) input.remove();
  inputs.forEach((input, index) => input.setAttribute("name", names[index]));
}
