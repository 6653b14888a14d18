/**
 * Cheap field reads on raw record text for the pre-filter. Each returns the exact value when the
 * raw text makes it certain, `null` when it cannot be sure (escapes, entities, odd layout: the
 * caller must then parse the record), and `undefined` when the field is absent.
 */

/** A JSON string value of `quotedKey` (e.g. `'"DomainName"'`), still JSON-escaped. */
export function jsonRaw(rec: string, quotedKey: string): string | null | undefined {
  let k = rec.indexOf(quotedKey);
  while (k > 0 && rec.charCodeAt(k - 1) === 92) k = rec.indexOf(quotedKey, k + 1); // `\"key\"` is inside a value
  if (k < 0) return undefined;
  let i = k + quotedKey.length;
  while (rec.charCodeAt(i) <= 32) i++;
  if (rec.charCodeAt(i) !== 58 /* : */) return null;
  i++;
  while (rec.charCodeAt(i) <= 32) i++;
  if (rec.charCodeAt(i) !== 34 /* " */) return null;
  const from = i + 1;
  let q = rec.indexOf('"', from);
  while (q > 0) {
    let b = 0;
    for (let j = q - 1; j >= from && rec.charCodeAt(j) === 92; j--) b++;
    if (b % 2 === 0) return rec.slice(from, q);
    q = rec.indexOf('"', q + 1);
  }
  return null;
}

/** `jsonRaw` unescaped when only `\\` and `\/` escapes occur (Windows paths); else null. */
export function jsonString(rec: string, quotedKey: string): string | null | undefined {
  const raw = jsonRaw(rec, quotedKey);
  if (raw == null || raw.indexOf('\\') < 0) return raw;
  const out = raw.replace(/\\(.)/g, (_m, c: string) => (c === '\\' || c === '/' ? c : '\u0000'));
  return out.includes('\u0000') ? null : out;
}

/** The text of `<Data Name='name'>…</Data>` (either quote style) when it has no entity. */
export function xmlData(rec: string, name: string): string | null | undefined {
  let k = rec.indexOf(`Name='${name}'`);
  if (k < 0) k = rec.indexOf(`Name="${name}"`);
  if (k < 0) return undefined;
  let i = k + name.length + 7;
  while (rec.charCodeAt(i) <= 32) i++;
  const c = rec.charCodeAt(i);
  if (c === 47 /* / */) return '';
  if (c !== 62 /* > */) return null;
  const end = rec.indexOf('<', i + 1);
  if (end < 0) return null;
  const value = rec.slice(i + 1, end);
  return value.includes('&') ? null : value;
}

/** Text content of the first `<tag …>…</tag>`, e.g. EventID. */
export function xmlElementText(rec: string, tag: string): string | undefined {
  const k = rec.indexOf(`<${tag}`);
  if (k < 0) return undefined;
  const gt = rec.indexOf('>', k);
  if (gt < 0 || rec.charCodeAt(gt - 1) === 47) return undefined;
  const end = rec.indexOf('<', gt);
  return end < 0 ? undefined : rec.slice(gt + 1, end).trim();
}

/** Last path segment for `\` or `/` separators. */
export function basename(path: string): string {
  const i = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return i < 0 ? path : path.slice(i + 1);
}
