import { describe, expect, it } from 'vitest';
import { inertText } from '../../src/shared/inert-text.ts';

describe('inertText', () => {
  it('writes out every control, format and separator character as a visible escape, and leaves other text alone', () => {
    expect(inertText('a\x1b[2Jb\x07c\x9b1m\x7f\u202ed\u200e\u2066\u061c\ufeff\u2028\u2029\r\te')).toBe(
      'a\\u001b[2Jb\\u0007c\\u009b1m\\u007f\\u202ed\\u200e\\u2066\\u061c\\ufeff\\u2028\\u2029\\u000d\\u0009e',
    );
    expect(inertText('Zoë Ångström — 山田 ✓ eyJhbGciOi.x-y_z')).toBe('Zoë Ångström — 山田 ✓ eyJhbGciOi.x-y_z');
    // A tag character (beyond U+FFFF) as its surrogate pair.
    expect(inertText('x\u{e0041}')).toBe('x\\udb40\\udc41');
  });

  it('keeps newlines only for multi-line text', () => {
    expect(inertText('one\ntwo')).toBe('one\\u000atwo');
    expect(inertText('one\ntwo\x1b', { multiline: true })).toBe('one\ntwo\\u001b');
  });

  it('escapes exactly the control, format and separator characters, alone or after plain text, with or without newlines kept', () => {
    // Every code point, each after plain ASCII: the plain-text shortcut and the full check agree
    // with Unicode's own classes as this engine knows them.
    const acts = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]$/u;
    const wrong: string[] = [];
    for (let code = 0; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const character = String.fromCodePoint(code);
      const escapedForm = character.split('').map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
      for (const multiline of [false, true]) {
        const expected = acts.test(character) && !(multiline && character === '\n') ? escapedForm : character;
        if (inertText(`ab ~${character}`, { multiline }) !== `ab ~${expected}`) wrong.push(`U+${code.toString(16)}${multiline ? ' (multiline)' : ''}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps a JSON text valid JSON with the same meaning', () => {
    const value = { name: 'M\x1b]8;;https://evil.example/\x07\u202e\x85\u2028', n: 1 };
    const inert = inertText(JSON.stringify(value));
    expect(inert).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
    expect(JSON.parse(inert)).toEqual(value);
  });
});
