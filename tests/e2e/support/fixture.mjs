// Test pages served on the signer's origin, so /pkg/s3file.js and /s3file/sign are same-origin
// as on a real site.

/** Serves `body` as /fixtures/<name>.html on the signer's origin, with the response `headers`
 *  if given, and opens it, widget loaded. */
export async function openFixture(page, signer, name, body, headers = {}) {
  await page.route(`**/fixtures/${name}.html`, (route) =>
    route.fulfill({
      contentType: 'text/html; charset=utf-8',
      headers,
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${name}</title>
<script type="module" src="/pkg/s3file.js"></script></head><body>${body}</body></html>`,
    }),
  );
  await page.goto(`${signer.url}/fixtures/${name}.html`);
  // Resolves once the widget listens: the entry module awaits its initialisation.
  await page.evaluate(() => import('/pkg/s3file.js').then(() => true));
}
