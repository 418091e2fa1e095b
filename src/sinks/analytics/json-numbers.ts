// Parses Connect JSON without losing big numbers: a CUSTOM event's `value` may exceed JS precision,
// so every number literal that a double cannot hold exactly is turned into a string before parsing.

/**
 * Rewrites `text` so that each number literal outside strings whose value a double does not hold
 * exactly (e.g. 12345678901234567890, 0.1000000000000000055511151231257827) becomes a JSON string
 * of the same characters. Everything else, whitespace included, is kept byte for byte.
 */
export function quoteUnsafeNumbers(text: string): string {
  let out: string[] | undefined;
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) i++;
        else break;
      }
      const literal = text.slice(start, i);
      if (!isExactDouble(literal)) {
        out ??= [];
        out.push(text.slice(last, start), '"', literal, '"');
        last = i;
      }
      continue;
    }
    i++;
  }
  if (!out) return text;
  out.push(text.slice(last));
  return out.join('');
}

/** True when the literal survives a round trip through a double (so JSON.parse keeps its meaning). */
export function isExactDouble(literal: string): boolean {
  const value = Number(literal);
  if (!Number.isFinite(value)) return false;
  if (value === 0) return true; // 0, -0, 0.000: JSON.parse keeps them
  // Fast path: short integers.
  if (/^-?\d{1,15}$/.test(literal)) return true;
  // Long integers: exact when the double prints back as the same digits (2^53 does, 2^53 + 1 does not).
  if (/^-?\d+$/.test(literal)) return String(value) === literal.replace(/^(-?)0+(?=\d)/, '$1');
  // Decimals and exponents: exact when the shortest round-trip form names the same decimal value.
  return sameDecimal(literal, String(value));
}

/** Compares two decimal literals by value, without floating point (digits and exponent normalised). */
function sameDecimal(a: string, b: string): boolean {
  const norm = (s: string): string => {
    const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
    if (!m) return s;
    const sign = m[1] ?? '';
    const intPart = m[2] ?? '';
    const frac = m[3] ?? '';
    let exp = Number(m[4] ?? '0') - frac.length;
    let digits = (intPart + frac).replace(/^0+/, '');
    if (digits === '') return '0';
    while (digits.endsWith('0')) {
      digits = digits.slice(0, -1);
      exp++;
    }
    return `${sign}${digits}e${exp}`;
  };
  return norm(a) === norm(b);
}

/** JSON.parse of Connect text with unsafe numbers kept as strings. Throws on invalid JSON. */
export function parseConnectJson(text: string): unknown {
  return JSON.parse(quoteUnsafeNumbers(text));
}
