import { HTML_CONTENT_TYPE, SIMPLE_HTML_CONTENT_TYPE, SIMPLE_JSON_CONTENT_TYPE } from './layout.ts';

/**
 * PEP 691 content negotiation for the simple pages: which of the representations a client's
 * Accept header prefers. Pure, so the server and its tests share one definition.
 */
export interface SimpleRepresentation {
  format: 'html' | 'json';
  /** The Content-Type to answer with. */
  contentType: string;
}

interface Offer extends SimpleRepresentation {
  /** Media types that name this offer exactly (PEP 691's `latest` aliases included). */
  names: string[];
}

// Listed in the server's order of preference, used only to break exact ties.
const OFFERS: Offer[] = [
  { format: 'html', contentType: HTML_CONTENT_TYPE, names: ['text/html'] },
  {
    format: 'html',
    contentType: SIMPLE_HTML_CONTENT_TYPE,
    names: [SIMPLE_HTML_CONTENT_TYPE, 'application/vnd.pypi.simple.latest+html'],
  },
  {
    format: 'json',
    contentType: SIMPLE_JSON_CONTENT_TYPE,
    names: [SIMPLE_JSON_CONTENT_TYPE, 'application/vnd.pypi.simple.latest+json'],
  },
];

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
  index: number;
}

export function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  header.split(',').forEach((part, index) => {
    const [mediaRaw = '', ...params] = part.split(';').map((s) => s.trim());
    let media = mediaRaw.toLowerCase();
    if (media === '*') media = '*/*'; // seen from old clients; RFC 9110 only has */*
    const slash = media.indexOf('/');
    if (slash <= 0 || slash === media.length - 1) return;
    let q = 1;
    for (const p of params) {
      const [k = '', v = ''] = p.split('=').map((s) => s.trim());
      if (k.toLowerCase() !== 'q') continue;
      // A malformed weight makes the whole range unusable rather than silently preferred.
      if (!/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(v)) return;
      q = Number(v);
    }
    ranges.push({ type: media.slice(0, slash), subtype: media.slice(slash + 1), q, index });
  });
  return ranges;
}

/** 3 for an exact name, 2 for `type/*`, 1 for `*\/*`, 0 when the range does not cover the offer. */
function specificity(range: MediaRange, offer: Offer): number {
  if (range.type === '*' && range.subtype === '*') return 1;
  const full = `${range.type}/${range.subtype}`;
  if (offer.names.includes(full)) return 3;
  if (range.subtype === '*' && offer.names.some((n) => n.startsWith(`${range.type}/`))) return 2;
  return 0;
}

/**
 * The representation to serve, or undefined when the client accepts none of them (answer 406).
 * `available` narrows the choice when a page exists in one format only (an index written by
 * another tool may have no JSON). No or an empty Accept header gets HTML, the PEP 503 default. An offer's weight comes from the
 * most specific range that covers it (RFC 9110 §12.5.1); ties go to the more specific match,
 * then to the client's order, then to HTML.
 */
export function negotiateSimple(
  accept: string | undefined,
  available: readonly SimpleRepresentation['format'][] = ['html', 'json'],
): SimpleRepresentation | undefined {
  const offers = OFFERS.filter((o) => available.includes(o.format));
  if (accept === undefined || accept.trim() === '') return offers[0] && { format: offers[0].format, contentType: offers[0].contentType };
  const ranges = parseAccept(accept);
  const scored = offers.map((offer, pref) => {
    let best: { q: number; spec: number; index: number } | undefined;
    for (const r of ranges) {
      const spec = specificity(r, offer);
      if (spec === 0) continue;
      if (!best || spec > best.spec) best = { q: r.q, spec, index: r.index };
    }
    return { offer, pref, ...(best ?? { q: 0, spec: 0, index: Infinity }) };
  }).filter((s) => s.q > 0);
  scored.sort((a, b) => b.q - a.q || b.spec - a.spec || a.index - b.index || a.pref - b.pref);
  const win = scored[0];
  return win ? { format: win.offer.format, contentType: win.offer.contentType } : undefined;
}

/** The media types a 406 answer lists, so a client can see what it could have asked for. */
export const SIMPLE_MEDIA_TYPES: readonly string[] = OFFERS.flatMap((o) => o.names);
