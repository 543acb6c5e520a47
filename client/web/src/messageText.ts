/**
 * A message body as parts: text, and links where an http(s) URL is written. Nothing else ever
 * becomes markup (React renders every part as text or as an <a> with a checked href), so a body
 * holding HTML or a `javascript:` URL stays text.
 */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that ends a sentence more often than a URL. */
const TRAILING = /[.,;:!?)\]}'"]+$/;

export function linkify(body: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of body.matchAll(URL_PATTERN)) {
    let url = match[0];
    const trailing = TRAILING.exec(url)?.[0] ?? '';
    // Keep a closing parenthesis that closes one opened inside the URL (Wikipedia links).
    const keep = trailing.startsWith(')') && (url.match(/\(/g)?.length ?? 0) > (url.slice(0, -trailing.length).match(/\)/g)?.length ?? 0) ? 1 : 0;
    url = url.slice(0, url.length - trailing.length + keep);
    const href = safeHref(url);
    if (!href) continue;
    const start = match.index;
    if (start > last) parts.push({ kind: 'text', text: body.slice(last, start) });
    parts.push({ kind: 'link', text: url, href });
    last = start + url.length;
  }
  if (last < body.length) parts.push({ kind: 'text', text: body.slice(last) });
  return parts;
}

/** The URL as the browser would resolve it, if it is http or https; null otherwise. */
export function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}
