// What the e2e suites read back after a form is finalized: the files finalize's result page
// lists, and an object's bytes through its download URL.
import assert from 'node:assert/strict';

/** The files finalize's result page lists: `{key, name, href, size}` each (`size` as the page
 *  writes it, "<n> bytes"). */
export async function storedFiles(page) {
  return page.$$eval('#files li[data-key]', (items) =>
    items.map((item) => ({
      key: item.dataset.key,
      name: item.querySelector('a').textContent,
      href: item.querySelector('a').href,
      size: item.querySelector('.size')?.textContent,
    })),
  );
}

/** The bytes a plain GET of `href` gives, as a browser would get them (`Content-Encoding`
 *  undone); fails on any status but 200, or after 30 s. */
export async function download(href) {
  const response = await fetch(href, { signal: AbortSignal.timeout(30_000) });
  assert.equal(response.status, 200, `GET ${href}`);
  return Buffer.from(await response.arrayBuffer());
}
