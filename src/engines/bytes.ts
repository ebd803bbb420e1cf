/**
 * The manager's engines work on C strings: bytes of UTF-8, ending at the first NUL.
 * We reproduce that with "byte strings": JS strings whose char codes are bytes (0-255).
 * ASCII text is already a byte string, so the common case costs one regex test.
 */

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/** `s` as a byte string (UTF-8), cut at the first NUL like a C string. */
export function toByteString(s: string): string {
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  return NON_ASCII.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

/** ASCII-only lower case of one byte (the engines' `charmap`). */
export function lowerByte(b: number): number {
  return b >= 65 && b <= 90 ? b + 32 : b;
}

/** ASCII-only lower case of a byte string (non-ASCII bytes are left as they are). */
export function lowerAscii(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

/** A byte string as bytes. */
export function byteArray(s: string): number[] {
  const out = new Array<number>(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The manager refuses patterns longer than this many bytes (OS_PATTERN_MAXSIZE). */
export const PATTERN_MAX_BYTES = 20480;

/**
 * `input` as the manager's engine reads it: the string itself when it is ASCII without NUL
 * (the usual case, checked without a regex call), else its UTF-8 bytes up to the first NUL.
 */
export function bytesOf(input: string): string {
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 0 || c > 127) return toByteString(input);
  }
  return input;
}
