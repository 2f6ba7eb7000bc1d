// How oslo.config reads one value of an INI file, and so how a value is written for it to read back
// exactly. From oslo_config (read on bookworm's 9.1, the same since 6.x): iniparser.py reads the file with
// readlines() (a line ends at \n; text mode also ends one at \r), strips white space (Python's
// str.strip(), which knows more spaces than ASCII's) off the value's ends and then drops one level of
// matching quotes (`"…"` or `'…'`); cfg.py's _substitute first turns `\$` into `$$`, then reads the value
// as a string.Template: `$$` is a `$`, `$name` / `${name}` is another option's value. oslo.config has no
// `%` interpolation, and `#` or `;` start a comment only at the start of a line.

/** What Python's str.strip() removes (str.isspace()): the ASCII blanks, the separators \x1c-\x1f, NEL, and Unicode's spaces. */
const PY_SPACE = '\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

const isPySpace = (c: string | undefined): boolean => c !== undefined && c !== '' && PY_SPACE.includes(c);

/** `$` written as `$$`: oslo.config reads `$name` as a reference to another option. */
export function osloEscape(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

/**
 * Whether a value must be written inside quotes to read back as it is: it has white space at an end
 * (stripped otherwise), or starts and ends with the same quote (one level would be dropped).
 */
export function needsQuotes(value: string): boolean {
  if (value === '') return false;
  const q = value[0];
  return isPySpace(value[0]) || isPySpace(value.at(-1)) || ((q === '"' || q === "'") && value.endsWith(q));
}

/** Position (1-based, in characters as people count them) of index i in v. */
const position = (v: string, i: number) => [...v.slice(0, i)].length + 1;

/**
 * Why `value` cannot be written so that oslo.config reads it back exactly, or undefined. Quotes, `#`,
 * `;`, `%`, `$`, spaces (at the ends too: they are written quoted) and any Unicode text can.
 */
export function osloValueProblem(value: string): string | undefined {
  const br = /[\r\n]/.exec(value);
  if (br) return `it holds a ${br[0] === '\n' ? 'line feed' : 'carriage return'} at character ${position(value, br.index)}, where a line of the config file ends`;
  const esc = value.indexOf('\\$');
  if (esc >= 0) return `it holds a backslash right before a $ (characters ${position(value, esc)}-${position(value, esc) + 1}), which oslo.config reads as an escaped $: the backslash would be lost`;
  return undefined;
}

/**
 * The value oslo.config uses for `written` (a value as a file holds it, quotes already dropped, as
 * ini/lines.ts reads it): `\$` and `$$` are `$`. Undefined when it refers to another option (`$name`,
 * `${name}`): only the whole file would tell.
 */
export function osloUnescape(written: string): string | undefined {
  const v = written.replace(/\\\$/g, '$$$$');
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = v[i + 1] ?? '';
    if (next === '$') {
      out += '$';
      i++;
    } else if (/[_a-z]/i.test(next) || /^\{[_a-z][._a-z0-9]*\}/i.test(v.slice(i + 1))) return undefined;
    // A `$` that starts no name stays as it is (safe_substitute).
    else out += '$';
  }
  return out;
}
