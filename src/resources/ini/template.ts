// Templates of the keys a tool owns in an INI file, rendered with values that may be secrets. The only
// module that imports `ini`.
//
// Template format (playbooks/<name>/templates/<release>/*.conf):
//   [section]
//   key = value            the file gets exactly this value
//   key = …{{NAME}}…       a placeholder, filled from the vars given to renderTemplate (text or a Secret)
//   key = …{{NAME|url}}…   the same, percent-encoded (for a password inside a URL)
//   key = {{NAME?}}        an optional key: set to the value when it is not empty, removed (as `!key`)
//                          when the value is '' (a CA file only when Keystone speaks https). The
//                          placeholder is the whole value, and the var must still be given (a typo
//                          in a name stays an error instead of a key that silently never appears)
//   !key                   the key is removed (its active lines; comments stay)
//   # comment / ; comment  ignored
// Templates are parsed by the `ini` package, so inside a template a value ends at an unescaped `;` or
// `#` (write `\;`, `\#`), and `"…"` quotes are JSON. Substituted values are inserted *after* parsing
// and written the way oslo.config reads them back exactly (oslo-value.ts): `$` as `$$`, a value with white
// space at an end or in matching quotes inside quotes (merge.ts); a value holding a line break or `\$` is
// refused, naming the placeholder.
import { decode } from 'ini';
import { osloEscape, osloValueProblem } from './oslo-value.ts';
import { Secret, SecretText } from '../../secret.ts';

/** Values for the `{{NAME}}` placeholders of a template. */
export type TemplateVars = Readonly<Record<string, string | Secret>>;

/** A managed value: plain, or text holding a secret (masked wherever it is shown). */
export type IniValue = string | SecretText;

/** What a template says about one section: the keys it sets, and the keys it removes. */
export interface ManagedSection {
  readonly name: string;
  readonly set: ReadonlyArray<readonly [key: string, value: IniValue]>;
  readonly remove: readonly string[];
}

/** A rendered template: the sections managed in one file, in template order. */
export interface ManagedIni {
  readonly sections: readonly ManagedSection[];
}

/** A template that cannot be rendered: a missing placeholder, a malformed line, an unwritable value. */
export class IniTemplateError extends Error {
  constructor(message: string, readonly placeholders: readonly string[] = []) {
    super(message);
    this.name = 'IniTemplateError';
  }
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\?)?\s*(?:\|\s*([A-Za-z0-9_]+)\s*)?\}\}/g;
const FILTERS: Readonly<Record<string, (v: string) => string>> = { url: encodeURIComponent };

/** The placeholder names a template uses, sorted, each once. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/** Checks a template's lines for what `ini` would silently accept: bare keys, duplicates, keys outside a section. */
function lintTemplate(text: string): void {
  const seen = new Set<string>();
  let section: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const where = `template line ${i + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      section = header[1] as string;
      if (section.includes('{{')) throw new IniTemplateError(`${where}: a placeholder in a section name is not supported`);
      return;
    }
    if (section === undefined) throw new IniTemplateError(`${where}: "${line}" is outside any [section]`);
    const eq = line.indexOf('=');
    const removal = line.startsWith('!');
    if (removal && eq >= 0) throw new IniTemplateError(`${where}: "${line}": a removal is "!key" alone, without a value`);
    if (!removal && eq < 0) throw new IniTemplateError(`${where}: "${line}" has no value (write "key = value", or "!key" to remove the key)`);
    const key = (removal ? line.slice(1) : line.slice(0, eq)).trim();
    if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new IniTemplateError(`${where}: "${line}": a key must be a plain name (letters, digits, _ . -; no placeholder, no comment on the line)`);
    const id = `${section}\u0000${key}`;
    if (seen.has(id)) throw new IniTemplateError(`${where}: [${section}] ${key} appears twice (set or removed)`);
    seen.add(id);
  });
}

/** Flattens what `ini` decoded (it nests `[a.b]` as a.b) back into dotted section names. */
function flatten(obj: Record<string, unknown>, prefix: string, out: Map<string, Record<string, unknown>>): void {
  const own: Record<string, unknown> = {};
  const children: [string, Record<string, unknown>][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) children.push([prefix ? `${prefix}.${k}` : k, v as Record<string, unknown>]);
    else own[k] = v;
  }
  if (prefix && Object.keys(own).length > 0) out.set(prefix, own);
  for (const [name, child] of children) flatten(child, name, out);
}

/**
 * Renders a template into the managed keys. Every placeholder must have a value in `vars`: a missing one
 * is an IniTemplateError that names it (all of them, with where they are used). A Secret stays a Secret
 * inside the value (a SecretText), so whatever shows the value masks it.
 */
export function renderTemplate(text: string, vars: TemplateVars): ManagedIni {
  lintTemplate(text);
  const decoded = decode(text) as Record<string, unknown>;
  const flat = new Map<string, Record<string, unknown>>();
  flatten(decoded, '', flat);
  const missing = new Map<string, string[]>();
  const sections: ManagedSection[] = [];
  for (const [name, entries] of flat) {
    const set: [string, IniValue][] = [];
    const remove: string[] = [];
    for (const [rawKey, rawValue] of Object.entries(entries)) {
      if (rawKey.startsWith('!')) {
        remove.push(rawKey.slice(1).trim());
        continue;
      }
      const template = rawValue === null ? 'null' : String(rawValue);
      if (/\{\{|\}\}/.test(template.replace(PLACEHOLDER, ''))) throw new IniTemplateError(`[${name}] ${rawKey}: malformed placeholder in "${template}" (write {{NAME}}, {{NAME|url}} or {{NAME?}})`);
      const matches = [...template.matchAll(PLACEHOLDER)];
      const optional = matches.filter((m) => m[2] === '?');
      if (optional.length && (matches.length > 1 || matches[0]![0] !== template)) {
        throw new IniTemplateError(`[${name}] ${rawKey}: an optional placeholder {{${optional[0]![1]}?}} must be the whole value (the key is set to it, or removed when it is empty)`);
      }
      if (optional.length) {
        const varName = optional[0]![1] as string;
        const v = Object.prototype.hasOwnProperty.call(vars, varName) ? vars[varName] : undefined;
        if (v !== undefined && (typeof v === 'string' ? v === '' : v.satisfies((x) => x === ''))) {
          remove.push(rawKey);
          continue;
        }
      }
      const parts: (string | Secret)[] = [];
      let last = 0;
      let complete = true;
      for (const m of matches) {
        parts.push(template.slice(last, m.index));
        last = m.index! + m[0].length;
        const [, varName, , filter] = m as unknown as [string, string, string | undefined, string | undefined];
        if (filter !== undefined && !FILTERS[filter]) throw new IniTemplateError(`[${name}] ${rawKey}: unknown placeholder filter "|${filter}" (known: ${Object.keys(FILTERS).join(', ')})`);
        const v = Object.prototype.hasOwnProperty.call(vars, varName) ? vars[varName] : undefined;
        if (v === undefined) {
          missing.set(varName, [...(missing.get(varName) ?? []), `[${name}] ${rawKey}`]);
          complete = false;
          continue;
        }
        const filtered = (s: string) => (filter === undefined ? s : FILTERS[filter]!(s));
        let why: string | undefined;
        const unwritable = (s: string) => (why = osloValueProblem(filtered(s))) !== undefined;
        if (typeof v === 'string' ? unwritable(v) : v.satisfies(unwritable)) {
          throw new IniTemplateError(`placeholder {{${varName}}} cannot be written into an INI file: ${why}`, [varName]);
        }
        const write = (s: string) => osloEscape(filtered(s));
        parts.push(typeof v === 'string' ? write(v) : v.map(write));
      }
      parts.push(template.slice(last));
      if (complete) set.push([rawKey, SecretText.join(parts)]);
    }
    sections.push({ name, set, remove });
  }
  if (missing.size) {
    const names = [...missing.keys()].sort();
    const detail = names.map((n) => `{{${n}}} (used by ${(missing.get(n) as string[]).join(', ')})`).join('; ');
    throw new IniTemplateError(`template placeholder${names.length > 1 ? 's' : ''} without a value: ${detail}`, names);
  }
  return { sections };
}
