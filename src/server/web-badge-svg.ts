/**
 * Shields-style "flat" badges as SVG text: a grey label on the left, a
 * coloured message on the right, both readable without the colour (the
 * message says the status) and named for screen readers (role="img",
 * aria-label, <title>).
 */

/** Badge colours (shields' palette; white text passes contrast on each). */
export const BADGE_COLOR = {
  green: '#2e7d32',
  yellow: '#9a6700',
  orange: '#c2410c',
  red: '#c62828',
  grey: '#5f6368',
  blue: '#1f6feb',
} as const;

export type BadgeColor = keyof typeof BADGE_COLOR;

/**
 * Advance widths of Verdana at 11 px (the font shields measures with), in
 * px, for printable ASCII from space (32) to tilde (126). Other characters
 * count as the widest lower-case letter.
 */
const VERDANA_11 = [
  3.9, 4.7, 5.5, 9.2, 7, 12.1, 8, 3, 5.5, 5.5, 7, 9.2, 4, 5.5, 4, 5.5, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 5.5, 5.5, 9.2, 9.2, 9.2, 6, 11, 7.5, 7.6, 7.7, 8.5, 7, 6.3,
  8.5, 8.3, 4.6, 5, 7.6, 6.1, 9.4, 8.2, 8.7, 6.6, 8.7, 7.7, 7.5, 6.8, 8.1, 7.5, 10.9, 7.5, 6.8, 7.5, 5.5, 5.5, 5.5, 9.2, 7, 7, 6.6, 6.8, 5.7, 6.8, 6.6, 3.9,
  6.8, 7, 3, 3.8, 6.5, 3, 10.7, 7, 6.7, 6.8, 6.8, 4.7, 5.7, 4.3, 7, 6.5, 9, 6.5, 6.5, 5.8, 7, 5.5, 7, 9.2,
];

/** Width of `text` in Verdana 11 px, px. */
export function textWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    w += code >= 32 && code <= 126 ? VERDANA_11[code - 32]! : 10.7;
  }
  return w;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A badge "label | message" as a complete SVG document. */
export function renderBadge(label: string, message: string, color: BadgeColor): string {
  const pad = 6;
  const lw = Math.round(textWidth(label) + 2 * pad);
  const mw = Math.round(textWidth(message) + 2 * pad);
  const w = lw + mw;
  const l = escapeXml(label);
  const m = escapeXml(message);
  // Text is drawn at 10× and scaled down, as shields does, so sub-pixel widths stay crisp.
  const lx = (lw / 2) * 10;
  const mx = (lw + mw / 2) * 10;
  const ltl = (lw - 2 * pad) * 10;
  const mtl = (mw - 2 * pad) * 10;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${l}: ${m}">` +
    `<title>${l}: ${m}</title>` +
    `<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>` +
    `<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>` +
    `<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${BADGE_COLOR[color]}"/><rect width="${w}" height="20" fill="url(#s)"/></g>` +
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">` +
    `<text aria-hidden="true" x="${lx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="${ltl}">${l}</text>` +
    `<text x="${lx}" y="140" transform="scale(.1)" fill="#fff" textLength="${ltl}">${l}</text>` +
    `<text aria-hidden="true" x="${mx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="${mtl}">${m}</text>` +
    `<text x="${mx}" y="140" transform="scale(.1)" fill="#fff" textLength="${mtl}">${m}</text>` +
    `</g></svg>`
  );
}
