import type { UserRef } from '../domain/events.js';
import { roomIdOfMessage } from '../domain/ids.js';
import { badInput, notFound, payloadTooLarge, unauthenticated } from '../domain/errors.js';

/** Length in Unicode code points, so an emoji counts as one character as a person would count it. */
const charCount = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

// Control characters other than tab, newline and carriage return have no place in messages.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// Names are one line.
const LINE_BREAKS = /[\t\n\r\u2028\u2029]/;
// A UTF-16 half without its other half: not text at all (a client's bug, or someone probing).
const LONE_SURROGATE = /\p{Cs}/u;
// Format characters (Unicode category Cf) are invisible: bidi overrides and isolates (U+202A–202E,
// U+2066–2069) reorder the text around them ("invoice" + U+202E + "fdp.exe" shows as "invoiceexe.pdf"),
// and zero-width ones (U+200B–200D, U+2060, U+FEFF) make two names that look the same differ.
const FORMAT = /\p{Cf}/u;
// Invisible characters outside Cf that pass for a blank name or pad one: the Hangul fillers
// (U+3164 and its halfwidth form normalise to U+1160), the combining grapheme joiner, the Khmer
// inherent vowels and the Braille blank.
const INVISIBLE = /[\u115f\u1160\u3164\uffa0\u034f\u17b4\u17b5\u2800]/u;
// Where writing needs a format character, it stays: ZWNJ and ZWJ inside words of scripts that are
// shaped with them (Persian, the Indic scripts), ZWJ inside an emoji sequence (👩‍💻, 🏳️‍🌈), and
// the tag characters of a subdivision flag. Only these exact places are exempt.
const JOINING_SCRIPTS = [
  'Arabic', 'Syriac', 'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala',
].map((script) => `\\p{sc=${script}}`).join('');
const NEEDED_FORMAT = new RegExp(
  [
    `(?<=[${JOINING_SCRIPTS}\\p{M}])[\\u200c\\u200d](?=[${JOINING_SCRIPTS}])`,
    '(?<=[\\p{Extended_Pictographic}\\p{Emoji_Modifier}\\ufe0f])\\u200d(?=\\p{Extended_Pictographic})',
    '(?<=\\u{1f3f4})[\\u{e0020}-\\u{e007e}]+\\u{e007f}',
  ].join('|'),
  'gu',
);

/** New room passwords shorter than this are refused. */
export const MIN_PASSWORD_CHARS = 8;

const codePoint = (char: string): string => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Refuses what no text of ours may hold: lone surrogates, control, format and invisible characters. */
function refuseHidden(text: string, what: string): void {
  const lone = LONE_SURROGATE.exec(text);
  if (lone) throw badInput(`${what} contains an unpaired surrogate (${codePoint(lone[0])}): not valid Unicode text`);
  if (CONTROL.test(text)) throw badInput(`${what} contains control characters`);
  const rest = text.replace(NEEDED_FORMAT, '');
  const hidden = FORMAT.exec(rest) ?? INVISIBLE.exec(rest);
  if (hidden) throw badInput(`${what} contains an invisible or control character (${codePoint(hidden[0])})`);
}

/** A message body, kept exactly as typed once it passes the checks. */
export function messageBody(body: string, maxChars: number): string {
  if (body.trim() === '') throw badInput('message body must not be empty');
  refuseHidden(body, 'message body');
  const length = charCount(body);
  if (length > maxChars) throw payloadTooLarge(`message body is ${length} characters; the limit is ${maxChars}`);
  return body;
}

/**
 * A user's or a room's name, normalised (NFKC: full-width letters, ligatures and other
 * compatibility forms become the plain characters they look like, so look-alikes are one name)
 * and trimmed.
 */
export function displayName(name: string, what: string, maxChars: number): string {
  if (LONE_SURROGATE.test(name)) refuseHidden(name, what);
  const normalised = name.normalize('NFKC');
  const trimmed = normalised.trim();
  if (trimmed === '') throw badInput(`${what} must not be empty`);
  if (LINE_BREAKS.test(trimmed)) throw badInput(`${what} contains control characters`);
  // Before trimming: trim() would quietly drop a leading U+FEFF, which is refused like the rest.
  refuseHidden(normalised, what);
  if (charCount(trimmed) > maxChars) throw badInput(`${what} is longer than ${maxChars} characters`);
  return trimmed;
}

/** A new room's password (joins take any string and just compare). */
export function password(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (value === '') throw badInput('password must not be empty; leave it out for a public room');
  if (charCount(value) < MIN_PASSWORD_CHARS) throw badInput(`password must be at least ${MIN_PASSWORD_CHARS} characters`);
  if (value.length > 200) throw badInput('password is longer than 200 characters');
  return value;
}

export function clientMessageId(value: string): string {
  if (value.length < 1 || value.length > 100) throw badInput('clientMessageId must be 1 to 100 characters');
  return value;
}

export function id(value: string, what: string): string {
  if (value.length < 1 || value.length > 200) throw badInput(`${what} is not a valid id`);
  return value;
}

export function seq(value: number | null | undefined, what: string): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) throw badInput(`${what} must be a whole number ≥ 0`);
  return value;
}

export function limit(value: number | null | undefined, fallback: number, max: number): number {
  if (value === null || value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw badInput(`limit must be between 1 and ${max}`);
  return value;
}

/** The session's user; every use case but createSession and the public room queries needs one. */
export function viewer(value: UserRef | null): UserRef {
  if (!value) throw unauthenticated();
  return value;
}

/** The room a message id names (message ids carry their room); an id naming none is no message. */
export function messageRoom(messageId: string): string {
  const roomId = roomIdOfMessage(id(messageId, 'messageId'));
  if (!roomId) throw notFound('message');
  return roomId;
}
