/**
 * Signed seeds are committed as templates: every key id, public key, signature and digest that
 * depends on the keys of the run that made them is written `@@name@@`. A target fills them
 * with its own run's values (and signatures made by its own keys), so no private key is ever
 * committed and the seeds verify in every run. Bytes are handled as latin1 text, one char per
 * byte: bytes that are not UTF-8 survive a fill unchanged.
 */
const TOKEN = /@@([A-Za-z0-9:._/+-]+)@@/g;

export function placeholder(name: string): string {
  return `@@${name}@@`;
}

/** A value as it appears inside a JSON string (a PEM's newlines are `\n` there). */
export function jsonEscaped(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** Replaces every occurrence of each value with its placeholder, longest values first. */
export function templatize(text: string, values: Readonly<Record<string, string>>): string {
  let out = text;
  for (const [name, value] of Object.entries(values).sort((a, b) => b[1].length - a[1].length)) {
    if (value.length > 0) out = out.split(value).join(placeholder(name));
  }
  return out;
}

/** Fills the placeholders `values` knows; others stay (a signature is filled in a second pass). */
export function fill(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(TOKEN, (whole, name: string) => values[name] ?? whole);
}

/** The names of the placeholders still in `text` that start with `prefix` (e.g. `sig:`). */
export function pending(text: string, prefix: string): string[] {
  return [...new Set([...text.matchAll(TOKEN)].map((m) => m[1]!).filter((n) => n.startsWith(prefix)))];
}

export const latin1 = {
  text: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1'),
  bytes: (s: string) => Buffer.from(s, 'latin1'),
};
