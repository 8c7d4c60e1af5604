// Types of s3file's drop-in module (`s3file.js`) and of the events it dispatches.
// PROTOCOL.md ("Widget events", "Opt-in") describes them in full.

/**
 * Prepares the forms with upgraded file inputs under `root` (the document by default): adds
 * each form's live region before anything is announced in it. Forms and inputs added later work
 * without it (the widget listens on the document); call it after inserting markup (htmx's
 * `htmx:afterSwap`, a formset's "add" button) so their first announcement is reliable.
 */
export function upgrade(root?: Document | Element): void;

/**
 * Uploads the files of the form's upgraded inputs and writes their keys into the form as
 * django-s3file's hidden fields (the file inputs lose their `name`), without submitting it.
 * Resolves to the keys per field name, in file order; `{}` when there was nothing to upload.
 * Rejects with an `Error` whose message is the first failure's, after the same `s3file:error`
 * events and validity messages as a submission; with an `Error` named `AbortError` when
 * `abort(form)` stopped it; and at once when the form is uploading already.
 */
export function upload(form: HTMLFormElement): Promise<Record<string, string[]>>;

/**
 * Stops the form's uploads (their requests are aborted) and hands the form back. Files stored
 * so far are kept: the next submission or `upload()` sends only the others. Returns whether
 * the form was uploading.
 */
export function abort(form: HTMLFormElement): boolean;

/** `detail` of `progress`, exactly django-s3file's. */
export interface S3FileProgressDetail {
  /** `loaded / total`, from 0 to 1. */
  progress: number;
  /** Bytes sent, of the form's files (on the form) or of the input's (on the input). */
  loaded: number;
  /** Bytes to send, of the form's files (on the form) or of the input's (on the input). */
  total: number;
  currentFile: File;
  currentFileName: string;
  /** From 0 to 1. */
  currentFileProgress: number;
  /** The upload's own progress event (`loadend` for the last event of a file). */
  originalEvent: ProgressEvent;
}

/** `detail` of `s3file:start`, dispatched on the form when its files start uploading. */
export interface S3FileStartDetail {
  /** Files this attempt sends (a retry sends only those that failed). */
  files: number;
  /** Their bytes. */
  total: number;
}

/** `detail` of `s3file:done`, dispatched on the input when one of its files is stored. */
export interface S3FileDoneDetail {
  /** The S3 key it is stored under, until the form is submitted. */
  key: string;
  /** The file's name. */
  name: string;
  /** Its size in bytes. */
  size: number;
  /** The input's name. */
  field: string;
}

/** `detail` of `s3file:error`, dispatched on the input for each failure. */
export interface S3FileErrorDetail {
  /** Also the input's validity message. */
  message: string;
  /** The input's name. */
  field: string;
  /** The file concerned; `null` when the failure concerns all the input's files (signing). */
  fileName: string | null;
}

/** A listener of s3file's `progress`. */
export type S3FileProgressListener<Target> = (this: Target, event: CustomEvent<S3FileProgressDetail>) => unknown;

declare global {
  // `progress` comes on the form, then on the input, and does not bubble, as in django-s3file.
  // The DOM's types give the name to `ProgressEvent` already, so it cannot join the event map;
  // these overloads type its listeners on forms and file inputs.
  interface HTMLFormElement {
    addEventListener(
      type: "progress",
      listener: S3FileProgressListener<HTMLFormElement>,
      options?: boolean | AddEventListenerOptions,
    ): void;
  }
  interface HTMLInputElement {
    addEventListener(
      type: "progress",
      listener: S3FileProgressListener<HTMLInputElement>,
      options?: boolean | AddEventListenerOptions,
    ): void;
  }
  interface HTMLElementEventMap {
    /** On the form; bubbles. */
    "s3file:start": CustomEvent<S3FileStartDetail>;
    /** On the input; bubbles. */
    "s3file:done": CustomEvent<S3FileDoneDetail>;
    /** On the input; bubbles. */
    "s3file:error": CustomEvent<S3FileErrorDetail>;
  }
}
