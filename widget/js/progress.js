// Progress bars the page binds with markup alone: `data-s3file-progress="<CSS selector>"` on a
// form shows the form's numbers on the elements the selector matches, on an input the input's
// (README, "Progress bar without JavaScript"). effects.js imports this module with the first
// `progress` of a form or input that has the attribute, so a page without bars never fetches
// it (the widget build ships it as `s3file_progress.js`), and hands it the numbers of each
// `progress` event, and the failures of a form handed back, in the order they happen.

/** Selectors that matched nothing because they are not selectors, each said once. */
const reported = new Set();

/** The elements `target` (a form or an input) binds: none without the attribute, or when its
 *  value is not a CSS selector. Looked up at each update, so bars the page adds or replaces
 *  later are found too. */
function bars(target) {
  const selector = target.getAttribute("data-s3file-progress");
  if (selector === null) return [];
  try {
    return document.querySelectorAll(selector);
  } catch {
    if (!reported.has(selector)) console.error(`s3file: data-s3file-progress="${selector}" is not a CSS selector`);
    reported.add(selector);
    return [];
  }
}

/**
 * Shows `progress`, the fraction (0 to 1) of the `progress` event `target` got, on the bars it
 * binds. A `<progress>` gets it as its `value`, scaled to its own `max` (1 unless the page says
 * otherwise), and keeps its native role. Any other element becomes an ARIA progress bar
 * (`role=progressbar`, unless it has a role, with `aria-valuenow` in whole percent from 0 to 100;
 * 100 only once every byte is sent). Every bar gets the fraction as the CSS custom property
 * `--s3file-progress`, to draw it with: `width: calc(var(--s3file-progress) * 100%)`.
 */
export function show(target, { progress }) {
  for (const bar of bars(target)) {
    if (bar instanceof HTMLProgressElement) {
      bar.value = progress * bar.max;
    } else {
      if (!bar.hasAttribute("role")) bar.setAttribute("role", "progressbar");
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      bar.setAttribute("aria-valuenow", Math.floor(progress * 100));
    }
    bar.style.setProperty("--s3file-progress", progress);
  }
}

/** Puts the bars of `form`, handed back, and of the inputs that failed back to 0: `reports` are
 *  effects.js's, `[input, message, field, fileName]` each. */
export function reset(form, reports) {
  for (const target of [form, ...reports.map(([input]) => input)]) show(target, { progress: 0 });
}
