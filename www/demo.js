// Drives the demo's progress bar from the widget's events (see widget/js/s3file.js).
const form = document.getElementById("upload-form");
const bar = document.getElementById("progress");
const text = document.getElementById("progress-text");

form.addEventListener("progress", (event) => {
  // The file input's own events bubble up to the form too; the form's own carry the progress of
  // all its files.
  if (event.target !== form) return;
  const { progress, currentFileName } = event.detail;
  bar.value = progress;
  text.value = `${Math.round(progress * 100)} %, ${currentFileName}`;
});

form.addEventListener("s3file:error", (event) => {
  bar.value = 0;
  text.value = event.detail.message;
});
