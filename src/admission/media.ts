/** Media-type checks for the Streamable HTTP transport. */
import { isJsonMedia, mediaType } from '../mcp/media-type.js';
import { memoize } from '../memo.js';

interface Range {
  type: string;
  subtype: string;
  q: number;
}

/** Parsed Accept headers; clients send the same few values over and over. */
const parseAccept = memoize((header: string): Range[] => {
  const out: Range[] = [];
  for (const part of header.split(',')) {
    const [range, ...params] = part.trim().split(';');
    if (!range) continue;
    const [type, subtype] = range.trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k?.toLowerCase() === 'q' && v !== undefined) q = Number(v);
    }
    out.push({ type, subtype, q: Number.isFinite(q) ? q : 0 });
  }
  return out;
}, 256);

/**
 * Whether an Accept header admits a media type. No header admits anything (RFC 9110 §12.5.1);
 * the most specific matching range decides, so `*\/*;q=0, application/json` works as meant.
 */
export function accepts(header: string | undefined, mediaType: string): boolean {
  if (header === undefined || header.trim() === '') return true;
  const [type, subtype] = mediaType.split('/');
  let best: Range | undefined;
  let bestRank = -1;
  for (const r of parseAccept(header)) {
    const rank = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' ? 0 : -1;
    if (rank > bestRank) {
      best = r;
      bestRank = rank;
    }
  }
  return best !== undefined && best.q > 0;
}

/** Whether a Content-Type header names JSON (parameters such as charset allowed). */
export function isJsonContentType(header: string | undefined): boolean {
  return isJsonMedia(mediaType(header));
}
