// Gzip for text types (README, "Gzip for text types"): the signer offers a POST of a file whose
// type is in `GZIP_CONTENT_TYPES` a second policy, the sign answer's `gzip`, which requires
// `Content-Encoding: gzip` and a body smaller than the file. digest.js imports this module when
// a transfer has one (the widget build ships it as `s3file_gzip.js`), so a page whose signer
// gzips nothing never fetches it.
/**
 * The POST body `form` (the policy's fields, then the file as `file`) with its file compressed,
 * under the gzip policy's `fields`, when that is smaller than the file; else `form` as it was.
 * `read` is called after each chunk of the file read. Fails only when the file cannot be read.
 */
export async function compressed(form, fields, read) {
  const file = form.get('file');
  const gzipped = await compress(file, read);
  if (gzipped.size >= file.size) return form;
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  // Under the file's own name: the policy's key may end in `${filename}`.
  body.append('file', gzipped, file.name);
  return body;
}

/** `file` gzipped, as a Blob: read as a stream and compressed by the browser, so memory stays
 *  flat (Chromium keeps a large Blob on disk). */
async function compress(file, read) {
  const counted = new TransformStream({
    transform(chunk, controller) {
      read?.();
      controller.enqueue(chunk);
    },
  });
  const stream = file.stream().pipeThrough(counted).pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).blob();
}
