// DOM effects of s3file's widget. The Rust side (widget/src/effects.rs) decides what to upload,
// where, what happened and what to say; these functions only carry it out on the page. They are
// written in JS because DOM plumbing is several times smaller here than in wasm.

// The widget's entry point for the events of its requests, `answered(attempt, call, event, xhr,
// sent)`: an export of the glue, which wasm-bindgen writes three folders up from its copy of
// this file (`snippets/<crate>/js/`); the widget build bundles both into one module.
import { answered } from "../../../s3file_wasm.js";
import { crc32, md5 } from "./digest.js";

/** The requests on their way, each with the numbers of its attempt and call. */
const requests = new Set();

/** Sends `body` with `method` to `url` for request `call` of attempt `attempt` (numbers the
 *  widget gives and gets back), with the header pairs `headers` (or none): an upload, whose
 *  progress events are reported too (with the fraction of the body sent, 0 when the browser
 *  cannot tell), and which is aborted when it makes no progress for `stall`
 *  ms (a stalled connection would otherwise hang the form); with `stall` 0, a request to the
 *  signer, JSON in and out (an answer that is not JSON becomes `null`). With `checksum` (see
 *  widget/src/upload.rs), it first reads the file (a form body's `file`) for its checksum:
 *  1, its MD5 as the header `Content-MD5`; 2, its CRC-32 as the form field
 *  `x-amz-checksum-crc32`, before the file. A file that cannot be read ends the request
 *  unsent. Its `loadend`, which comes once whatever happened, is reported with the request.
 *  Returns whether it was sent (not when the browser refused, for a URL that does not parse,
 *  say). */
export function send(method, url, headers, body, attempt, call, stall, checksum) {
  const xhr = new XMLHttpRequest();
  const form = body instanceof FormData;
  const file = form ? body.get("file") : body;
  const arm = () => {
    clearTimeout(xhr.stall);
    xhr.stall = setTimeout(() => xhr.abort(), stall);
  };
  // With the checksum, once known: unless the request was stopped meanwhile.
  const go = (value) => {
    if (!requests.has(xhr)) return;
    if (!value);
    else if (form) {
      body.delete("file");
      body.append("x-amz-checksum-crc32", value);
      body.append("file", file);
    } else xhr.setRequestHeader("Content-MD5", value);
    if (stall) arm();
    xhr.send(body);
  };
  xhr.attempt = attempt;
  xhr.call = call;
  try {
    xhr.open(method, url);
    for (const [name, value] of headers ?? []) xhr.setRequestHeader(name, value);
    if (stall) {
      // Browsers only report upload progress to listeners registered before `send()`.
      xhr.upload.onprogress = (event) => {
        arm();
        answered(attempt, call, event, undefined, event.lengthComputable ? event.loaded / event.total : 0);
      };
    } else {
      xhr.setRequestHeader("Content-Type", "application/json");
      xhr.responseType = "json";
    }
    xhr.onloadend = (event) => {
      unwatch(xhr);
      answered(attempt, call, event, xhr);
    };
    requests.add(xhr);
    if (!checksum) {
      go();
      return true;
    }
    // Later, out of the widget's hands: a failure is reported as a request that got no answer.
    (checksum == 1 ? md5 : crc32)(file).then(go).catch(() => {
      if (requests.has(xhr)) {
        unwatch(xhr);
        answered(attempt, call, undefined, xhr);
      }
    });
    return true;
  } catch {
    unwatch(xhr);
  }
}

/** Stops reporting the request's events. */
function unwatch(xhr) {
  clearTimeout(xhr.stall);
  xhr.onloadend = xhr.upload.onprogress = null;
  requests.delete(xhr);
}

/** Stops the requests of attempt `attempt` whose call number, masked with `mask`, is `call`:
 *  they report nothing more, and are aborted. */
export function stop(attempt, call, mask) {
  for (const xhr of requests) {
    if (xhr.attempt === attempt && (xhr.call & mask) === call) {
      unwatch(xhr);
      xhr.abort();
    }
  }
}

/** Reports `call` of attempt `attempt` in `ms` milliseconds: a retry's delay. */
export function later(ms, attempt, call) {
  setTimeout(() => answered(attempt, call), ms);
}

/** Whether the browser is online; if not, reports `call` of attempt `attempt` once it is. */
export function online(attempt, call) {
  if (navigator.onLine) return true;
  addEventListener("online", () => answered(attempt, call), { once: true });
  return false;
}

/** Bytes `start` to `end` of `file`, as a `Blob`: nothing is read. */
export const slice = (file, start, end) => file.slice(start, end);

/** S3's error `<Code>` in the XML answer to an upload (`xhr`). */
export const errorCode = (xhr) => xmlText(xhr, "Code")?.trim();

/** Where the multipart upload of `file` for form field `field` is kept between page loads:
 *  only its folder, signature and upload id, never file data. */
const saved = (field, file) => `s3file:${field}:${file.name}:${file.size}:${file.lastModified}`;

/** Keeps the multipart upload `multipart` (the signer's object) of `file` to `key`, signed with
 *  `signature`. */
export function remember(field, file, key, signature, multipart) {
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
 *  (PROTOCOL.md, "Multipart endpoints"). */
export const multipartBody = (key, { uploadId, ticket }, parts) =>
  JSON.stringify({ key, uploadId, ticket, parts: parts.length ? parts : undefined });

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
    region.style.cssText =
      "position:absolute;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;" +
      "clip-path:inset(50%);white-space:nowrap";
    form.append(region);
  }
  if (text !== undefined) region.textContent = text;
}

const dispatch = (target, type, detail, bubbles) =>
  target.dispatchEvent(new CustomEvent(type, { detail, bubbles }));

/** `progress` as django-s3file 7 dispatches it: on the form with the totals of all its files,
 *  then on the input with the input's, not bubbling. */
export function progress(form, input, file, fileProgress, original, ...totals) {
  [form, input].forEach((target, index) => {
    const [progress, loaded, total] = totals.slice(index * 3);
    dispatch(target, "progress", {
      progress,
      loaded,
      total,
      currentFile: file,
      currentFileName: file.name,
      currentFileProgress: fileProgress,
      originalEvent: original,
    });
  });
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
 *  `announcement` in the live region, then the first input's validity message in its bubble. */
export function failed(form, reports, announcement) {
  for (const [input, message, field, fileName] of reports) {
    console.error("s3file:", message);
    dispatch(input, "s3file:error", { message, field, fileName }, true);
  }
  announce(form, announcement);
  reports[0]?.[0].reportValidity();
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
  return xmlText(xhr, "Message")?.trim() || xmlText(xhr, "Code")?.trim() || undefined;
}

const xmlText = (xhr, tag) =>
  new DOMParser().parseFromString(xhr.responseText, "text/xml").getElementsByTagName(tag)[0]?.textContent;

/** django-s3file's fields on `input` (see widget/src/presigned.rs): each `data-fields-<name>`
 *  as `<name>`, in attribute order, then `success_action_status` `201`. */
export function markupFields(input) {
  const fields = {};
  for (const { name, value } of input.attributes) {
    if (name.startsWith("data-fields-") && name.length > 12) fields[name.slice(12)] = value;
  }
  fields.success_action_status = "201";
  return fields;
}

/** When a POST policy among `fields` expires, in Unix milliseconds; NaN when it does not say. */
export function policyExpiry(fields) {
  try {
    return Date.parse(JSON.parse(atob(fields.policy)).expiration);
  } catch {
    return NaN;
  }
}

/** A promise and the functions that settle it. */
export function deferred() {
  let settle;
  const promise = new Promise((resolve, reject) => {
    settle = [resolve, reject];
  });
  return [promise, ...settle];
}

/** The body of an upload: the policy's fields in order, then `Content-Type` when given, then the
 *  file (S3 ignores what follows it) under `name`. The `File` itself goes in, so its bytes never
 *  pass through wasm. */
export function uploadBody(fields, contentType, file, name) {
  const body = new FormData();
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
export function handOver(form, submitter, inputs, entries, submit) {
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
