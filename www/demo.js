// Drives the demo's progress bar from the widget's events (see widget/js/s3file.js).
const form = document.getElementById("upload-form");
const bar = document.getElementById("progress");
const text = document.getElementById("progress-text");

// On the form, `progress` carries the progress of all its files (it does not bubble from the
// input, as with django-s3file).
form.addEventListener("progress", (event) => {
  const { progress, currentFileName } = event.detail;
  bar.value = progress;
  text.value = `${Math.round(progress * 100)} %, ${currentFileName}`;
});

// The message itself shows on the input and in the status line (`data-s3file-status`).
form.addEventListener("s3file:error", () => {
  bar.value = 0;
  text.value = "";
});
