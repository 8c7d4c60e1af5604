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

/** A page of a fresh context of `browser`, for a fixture. A fixture page has no IP address of
 *  its own, so Chromium counts it as public and asks before it reaches a loopback store; a real
 *  site and its store do not meet this. With DEBUG_PAGE set, the page's console is printed. */
export async function fixturePage(browser) {
  const context = await browser.newContext({ permissions: ['local-network-access'] });
  const page = await context.newPage();
  if (process.env.DEBUG_PAGE) page.on('console', (message) => console.log('PAGE', message.text()));
  return page;
}
