// The line model of an existing INI file, read the way oslo.config's iniparser reads it: `[name]` starts
// a section, a line starting with `#` or `;` is a comment, a line starting with white space continues the
// previous value, `key = value` or `key: value` (split at the first `=` or `:`; one level of matching
// quotes around the value is dropped). Keys and section names compare case-sensitively, DEFAULT
// included: oslo.config reads a `[default]` section as a group of its own, not as DEFAULT (checked
// against glance 25's oslo.config on a bookworm lab), so a merge must not put DEFAULT's keys there.

export type LineKind = 'blank' | 'comment' | 'section' | 'key' | 'cont' | 'other';

export interface Line {
  readonly raw: string; // without the '\n' (a '\r' stays, so CRLF files come back byte for byte)
  readonly kind: LineKind;
  readonly section: string | undefined; // the section this line belongs to (a header belongs to itself)
  readonly key?: string; // kind 'key'
  readonly value?: string; // kind 'key', first line only
  readonly owner?: number; // kind 'cont': index of the key line it continues
}

/** A file's lines as they are (a CR stays on its line); an empty file has none. */
export function splitLines(text: string): string[] {
  return text === '' ? [] : text.split('\n');
}

export function parseLines(text: string): Line[] {
  const out: Line[] = [];
  let section: string | undefined;
  let lastKey: number | undefined; // the key line a continuation would extend
  for (const raw of splitLines(text)) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trimEnd();
    if (trimmed === '') {
      out.push({ raw, kind: 'blank', section });
      lastKey = undefined;
    } else if (line[0] === ' ' || line[0] === '\t') {
      if (lastKey !== undefined) out.push({ raw, kind: 'cont', section, owner: lastKey });
      else out.push({ raw, kind: 'other', section });
    } else if (trimmed.startsWith('[')) {
      lastKey = undefined;
      if (trimmed.endsWith(']') && trimmed.length > 2) {
        section = trimmed.slice(1, -1);
        out.push({ raw, kind: 'section', section });
      } else out.push({ raw, kind: 'other', section });
    } else if (trimmed.startsWith('#') || trimmed.startsWith(';')) {
      lastKey = undefined;
      out.push({ raw, kind: 'comment', section });
    } else {
      const kv = splitKeyValue(trimmed);
      if (kv && section !== undefined) {
        lastKey = out.length;
        out.push({ raw, kind: 'key', section, key: kv[0], value: kv[1] });
      } else {
        lastKey = undefined;
        out.push({ raw, kind: 'other', section });
      }
    }
  }
  return out;
}

/** oslo.config's split: at the first `=` or `:`, whichever comes first; one level of matching quotes dropped. */
function splitKeyValue(line: string): [string, string] | undefined {
  const eq = line.indexOf('=');
  const colon = line.indexOf(':');
  const at = eq < 0 ? colon : colon < 0 ? eq : Math.min(eq, colon);
  if (at < 0) return undefined;
  const key = line.slice(0, at).trim();
  if (key === '') return undefined;
  let value = line.slice(at + 1).trim();
  const q = value[0];
  if ((q === '"' || q === "'") && value.length > 0 && value.endsWith(q)) value = value.slice(1, -1);
  return [key, value];
}

/** The value of a key line with its continuation lines, as oslo.config would read it. */
export function fullValue(lines: readonly Line[], i: number): string {
  const parts = [lines[i]?.value ?? ''];
  for (let j = i + 1; j < lines.length && lines[j]?.kind === 'cont' && lines[j]?.owner === i; j++) {
    const raw = (lines[j] as Line).raw;
    parts.push((raw.endsWith('\r') ? raw.slice(0, -1) : raw).trim());
  }
  return parts.join('\n');
}

/** The value of `key` in `section` as oslo.config reads it (the last occurrence wins), or undefined. */
export function getIniValue(text: string, section: string, key: string): string | undefined {
  const lines = parseLines(text);
  let found: string | undefined;
  lines.forEach((l, i) => {
    if (l.kind === 'key' && l.section === section && l.key === key) found = fullValue(lines, i);
  });
  return found;
}

/** Keys whose whole value is secret, whatever it is. */
export function isSensitiveKey(_section: string, key: string): boolean {
  return /(password|passwd|secret|token|_key)$/i.test(key);
}

const URL_PASSWORD = /(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]+)(@)/g;

/** Whether a line holds a password inside a URL (`scheme://user:PASSWORD@host`). */
export function hasUrlPassword(text: string): boolean {
  return new RegExp(URL_PASSWORD.source).test(text);
}

/** Masks a password inside a URL. */
export function maskUrlPasswords(text: string): string {
  return text.replace(URL_PASSWORD, '$1***$3');
}
