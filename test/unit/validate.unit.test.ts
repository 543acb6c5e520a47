import { describe, expect, it } from 'vitest';
import * as validate from '../../src/chat/validate.js';
import { expectChatError } from './fixtures.js';


describe('messageBody', () => {
  it('accepts ordinary text, as given (not trimmed)', () => {
    expect(validate.messageBody('  hello  ', 100)).toBe('  hello  ');
  });

  it('accepts tab and newline', () => {
    expect(validate.messageBody('line 1\n\tline 2\n', 100)).toBe('line 1\n\tline 2\n');
  });

  it.each(['', ' ', '\n\t  ', '\u00a0'])('refuses a blank body %j: BAD_USER_INPUT', (body) => {
    expectChatError(() => validate.messageBody(body, 100), 'BAD_USER_INPUT');
  });

  it.each(['\u0000', 'a\u0007b', 'esc \u001b[31m', 'del \u007f', 'vt \u000b', 'ff \u000c'])(
    'refuses control characters in %j: BAD_USER_INPUT',
    (body) => {
      expectChatError(() => validate.messageBody(body, 100), 'BAD_USER_INPUT', /control/);
    },
  );

  it('at the limit: accepted; one more: PAYLOAD_TOO_LARGE naming both lengths', () => {
    expect(validate.messageBody('x'.repeat(10), 10)).toHaveLength(10);
    expectChatError(() => validate.messageBody('x'.repeat(11), 10), 'PAYLOAD_TOO_LARGE', /11.*10/);
  });

  it('counts code points: an emoji (two UTF-16 units) counts as one', () => {
    const emoji = '😀';
    expect(emoji.length).toBe(2);
    expect(validate.messageBody(emoji.repeat(10), 10)).toBe(emoji.repeat(10));
    expectChatError(() => validate.messageBody(emoji.repeat(11), 10), 'PAYLOAD_TOO_LARGE', /11/);
    expect(validate.messageBody(`${'a'.repeat(9)}${emoji}`, 10)).toHaveLength(11);
  });
});

describe('displayName', () => {
  it('returns the name trimmed', () => {
    expect(validate.displayName('  Alice  ', 'name', 100)).toBe('Alice');
  });

  it.each(['', '   ', '\n\t'])('refuses an empty or blank name %j, naming what it is', (name) => {
    expectChatError(() => validate.displayName(name, 'room name', 100), 'BAD_USER_INPUT', /room name/);
  });

  it.each(['Al\nice', 'Al\tice', 'Al\rice', 'Al\u0000ice', 'Al\u007fice', 'Al\u0085ice', 'Al\u2028ice', 'Al\u202eice'])('refuses control characters inside %j', (name) => {
    expectChatError(() => validate.displayName(name, 'name', 100), 'BAD_USER_INPUT', /control/);
  });

  it('counts code points after trimming; too long is BAD_USER_INPUT (not PAYLOAD_TOO_LARGE)', () => {
    expect(validate.displayName(` ${'é'.repeat(5)} `, 'name', 5)).toBe('é'.repeat(5));
    expect(validate.displayName('🦊'.repeat(5), 'name', 5)).toBe('🦊'.repeat(5));
    expectChatError(() => validate.displayName('🦊'.repeat(6), 'name', 5), 'BAD_USER_INPUT', /longer than 5/);
  });
});

describe('invisible and direction-changing characters (Unicode format characters, fillers, lone surrogates)', () => {
  // Each of these makes a name look like another, or a text read other than it shows.
  const hidden: Array<[string, string, string]> = [
    ['right-to-left override', 'invoice\u202Efdp.exe', 'U+202E'],
    ['right-to-left isolate', 'a\u2067b', 'U+2067'],
    ['left-to-right mark', 'a\u200Eb', 'U+200E'],
    ['zero-width space', 'ada\u200B', 'U+200B'],
    ['zero-width joiner between Latin letters', 'a\u200Dda', 'U+200D'],
    ['zero-width non-joiner between Latin letters', 'a\u200Cda', 'U+200C'],
    ['word joiner', 'a\u2060da', 'U+2060'],
    ['byte order mark', 'ada\uFEFF', 'U+FEFF'],
    ['soft hyphen', 'a\u00ADda', 'U+00AD'],
    ['tag characters outside a flag', 'ada\u{E0041}', 'U+E0041'],
    ['Hangul filler', 'ada\u3164', 'U+'],
    ['Hangul choseong filler', '\u115Fada', 'U+115F'],
    ['Braille blank', 'ada\u2800', 'U+2800'],
    ['combining grapheme joiner', 'ad\u034Fa', 'U+034F'],
  ];

  it.each(hidden)('%s: refused in names and bodies, naming the character', (_what, text, code) => {
    expectChatError(() => validate.displayName(text, 'name', 100), 'BAD_USER_INPUT', new RegExp(`name contains .*${code.replace('+', '\\+')}`));
    expectChatError(() => validate.messageBody(text, 100), 'BAD_USER_INPUT', new RegExp(code.replace('+', '\\+')));
  });

  it.each(['ada\uD800', '\uDC00ada', 'a\uDBFFb'])('a lone surrogate in %j: refused in names and bodies', (text) => {
    expectChatError(() => validate.displayName(text, 'name', 100), 'BAD_USER_INPUT', /unpaired surrogate/);
    expectChatError(() => validate.messageBody(text, 100), 'BAD_USER_INPUT', /unpaired surrogate/);
  });

  it('a name made of a filler alone is refused, not taken as a name', () => {
    expectChatError(() => validate.displayName('\u3164', 'name', 100), 'BAD_USER_INPUT');
    expectChatError(() => validate.displayName('\uFFA0\uFFA0', 'name', 100), 'BAD_USER_INPUT');
  });

  it.each([
    ['an emoji family (ZWJ sequence)', '👨‍👩‍👧'],
    ['a rainbow flag (VS16 + ZWJ)', '🏳️‍🌈'],
    ['a skin tone in a ZWJ sequence', '👩🏽‍💻'],
    ['a subdivision flag (tag characters)', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'],
    ['Persian with a zero-width non-joiner', 'می‌خواهم'],
    ['Devanagari with a zero-width joiner', 'क्‍ष'],
  ])('where writing needs a joiner, it stays: %s', (_what, text) => {
    expect(validate.displayName(`name ${text}`, 'name', 100)).toBe(`name ${text}`);
    expect(validate.messageBody(`body ${text}`, 100)).toBe(`body ${text}`);
  });
});

describe('names are normalised (NFKC), bodies kept as typed', () => {
  it('full-width letters, ligatures and compatibility forms become what they look like', () => {
    expect(validate.displayName('ａｄａ', 'name', 100)).toBe('ada');
    expect(validate.displayName('ﬁle', 'name', 100)).toBe('file');
    expect(validate.displayName('Ⓐda²', 'name', 100)).toBe('Ada2');
    expect(validate.displayName('e\u0301', 'name', 100)).toBe('é');
  });

  it('the length limit applies to the normalised name', () => {
    // U+FDFA is one character that NFKC spells out in 18.
    expectChatError(() => validate.displayName('\uFDFA', 'name', 10), 'BAD_USER_INPUT', /longer than 10/);
  });

  it('a body is returned exactly as typed', () => {
    expect(validate.messageBody('ａｄａ ﬁ e\u0301', 100)).toBe('ａｄａ ﬁ e\u0301');
  });
});

describe('password', () => {
  it('absent means a public room', () => {
    expect(validate.password(null)).toBeNull();
    expect(validate.password(undefined)).toBeNull();
  });

  it('the empty string is refused (leave it out instead)', () => {
    expectChatError(() => validate.password(''), 'BAD_USER_INPUT');
  });

  it('under 8 characters refused (a new room password must not be guessable in minutes), counting code points', () => {
    expectChatError(() => validate.password('hunter2'), 'BAD_USER_INPUT', /at least 8 characters/);
    expect(validate.password('hunter22')).toBe('hunter22');
    expectChatError(() => validate.password('🔑'.repeat(7)), 'BAD_USER_INPUT', /at least 8/);
    expect(validate.password('🔑'.repeat(8))).toBe('🔑'.repeat(8));
  });

  it('up to 200 characters accepted as given; more refused', () => {
    expect(validate.password(' s3cret ')).toBe(' s3cret ');
    expect(validate.password('p'.repeat(200))).toHaveLength(200);
    expectChatError(() => validate.password('p'.repeat(201)), 'BAD_USER_INPUT');
  });
});

describe('clientMessageId and id', () => {
  it('clientMessageId: 1 to 100 characters', () => {
    expect(validate.clientMessageId('c')).toBe('c');
    expect(validate.clientMessageId('c'.repeat(100))).toHaveLength(100);
    expectChatError(() => validate.clientMessageId(''), 'BAD_USER_INPUT');
    expectChatError(() => validate.clientMessageId('c'.repeat(101)), 'BAD_USER_INPUT');
  });

  it('id: 1 to 200 characters, naming what it is', () => {
    expect(validate.id('r1', 'roomId')).toBe('r1');
    expect(validate.id('r'.repeat(200), 'roomId')).toHaveLength(200);
    expectChatError(() => validate.id('', 'roomId'), 'BAD_USER_INPUT', /roomId/);
    expectChatError(() => validate.id('r'.repeat(201), 'roomId'), 'BAD_USER_INPUT', /roomId/);
  });
});

describe('seq', () => {
  it('absent stays absent; whole numbers ≥ 0 pass', () => {
    expect(validate.seq(null, 'afterSeq')).toBeUndefined();
    expect(validate.seq(undefined, 'afterSeq')).toBeUndefined();
    expect(validate.seq(0, 'afterSeq')).toBe(0);
    expect(validate.seq(42, 'afterSeq')).toBe(42);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s, naming the argument', (value) => {
    expectChatError(() => validate.seq(value, 'afterSeq'), 'BAD_USER_INPUT', /afterSeq/);
  });
});

describe('limit', () => {
  it('absent: the fallback', () => {
    expect(validate.limit(null, 50, 500)).toBe(50);
    expect(validate.limit(undefined, 50, 500)).toBe(50);
  });

  it('1 to max pass', () => {
    expect(validate.limit(1, 50, 500)).toBe(1);
    expect(validate.limit(500, 50, 500)).toBe(500);
  });

  it.each([0, -5, 501, 2.5, Number.NaN])('refuses %s, naming the maximum', (value) => {
    expectChatError(() => validate.limit(value, 50, 500), 'BAD_USER_INPUT', /500/);
  });
});
