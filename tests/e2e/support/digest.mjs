// The widget's checksums (widget/js/digest.js), for pages that POST to the store by hand, as
// the benchmarks' plain uploads do: the signer's policies require the file's CRC-32. In a page:
//   const { crc32 } = await import(URL.createObjectURL(new Blob([DIGEST_SOURCE], { type: 'text/javascript' })));
import { readFileSync } from 'node:fs';

export const DIGEST_SOURCE = readFileSync(new URL('../../../widget/js/digest.js', import.meta.url), 'utf8');
