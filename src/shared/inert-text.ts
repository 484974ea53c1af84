// Text from a provider or a network answer (an error description, a display name, an API's body), made inert
// before a terminal or the window shows it.

/**
 * What a terminal or a text layout acts on instead of showing: C0 and C1 controls and DEL (`\p{Cc}`: ESC, which
 * starts every escape sequence — CSI, OSC 8 hyperlinks, window titles —, BEL, CR, and the 8-bit CSI U+009B and
 * OSC U+009D), format characters (`\p{Cf}`: the bidi marks and overrides U+200E/F, U+202A–E, U+2066–9, U+061C,
 * zero-width characters, U+FEFF) and the line and paragraph separators U+2028/9.
 *
 * Made on first use from a string, not written as a literal: V8 checks a literal's syntax when it parses the file
 * (even inside a function not yet called), and for `\p{…}` classes that check and the compile at first use have ICU
 * build the character sets — some 4 million instructions, about 3% of a whole `latchkey token`, which prints
 * plain text only and never needs them (docs/benchmarks.md).
 */
let notInert: RegExp | undefined;
const NOT_INERT_SOURCE = String.raw`[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]`;

/**
 * Text no terminal or layout acts on, checked without the sets above: printable ASCII (space to `~`), Latin-1's
 * printable characters but the soft hyphen (U+00AD, a format character), the general punctuation from U+2010 to
 * U+2027 and from U+2030 to U+205E (dashes, quotes, `·`, `…`: the separators U+2028/9 and the marks U+200B–F,
 * U+202A–E and U+2060 on are outside) and the arrows (U+2190–U+21FF) — our own messages' and help's typography — with
 * or without newlines. (test/shared/inert-text.test.ts checks every code point against the full class.)
 */
const PLAIN = String.raw`\x20-\x7e\u00a0-\u00ac\u00ae-\u00ff\u2010-\u2027\u2030-\u205e\u2190-\u21ff`;
const PLAIN_TEXT = new RegExp(`^[${PLAIN}]*$`);
const PLAIN_LINES = new RegExp(`^[${PLAIN}\\n]*$`);

/**
 * `text` with every character a terminal or a layout would act on written out as a visible `\uXXXX` escape
 * (ESC becomes `\u001b`, U+202E `\u202e`), so nothing is hidden, reordered or sent to the terminal, and the
 * reader sees that something was there. The escape is JSON's own, so a JSON text stays valid JSON meaning the
 * same. `multiline`: newlines are kept, for a message whose layout needs them (a terminal's output, an
 * API's pretty-printed body); one line of provider text keeps none.
 */
export function inertText(text: string, options: { multiline?: boolean } = {}): string {
  const multiline = options.multiline === true;
  if ((multiline ? PLAIN_LINES : PLAIN_TEXT).test(text)) return text;
  notInert ??= new RegExp(NOT_INERT_SOURCE, 'gu');
  return text.replace(notInert, (found) => (found === '\n' && multiline ? found : escaped(found)));
}

/** `\uXXXX` for each UTF-16 unit (a character beyond U+FFFF, such as a tag character, as its surrogate pair, as JSON writes it). */
function escaped(found: string): string {
  let out = '';
  for (let index = 0; index < found.length; index++) out += `\\u${found.charCodeAt(index).toString(16).padStart(4, '0')}`;
  return out;
}
