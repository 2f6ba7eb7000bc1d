// The Keystone admin credentials from an openrc file or from OS_* variables. An openrc is a shell script
// meant to be sourced, so it is read the way sh reads it (quotes, escapes, comments, `export`, `;`,
// variables the file set earlier) and a value sh would compute by running something (`$(…)`, backticks,
// a variable the file does not set) is refused with its line, never guessed. Lines that set no OS_*
// variable are none of our business and are skipped. Both openrc styles are understood: the v3 one
// (OS_PROJECT_NAME, OS_*_DOMAIN_NAME) and the v2.0 one of the Juno guide (OS_TENANT_NAME, no domains).
import { Secret } from '../secret.ts';
import { KeystoneError } from './keystone-error.ts';
import type { AdminCredentials } from './keystone-api.ts';

/** An openrc line sh would not read as a plain value: where, and what is wrong with it. */
export class OpenrcError extends KeystoneError {
  constructor(
    readonly source: string,
    readonly line: number,
    problem: string,
  ) {
    super(`${source} line ${line}: ${problem}`, `write the value itself in ${source} (quoted with '…' if it has spaces or special characters), or export the OS_* variables here instead`, { method: '-', path: '-' });
  }
}

/** One piece of a word as sh sees it. `unsupported` is a `$(…)` or `` `…` `` (kept to say so, never run). */
type Part = { kind: 'text'; text: string; quoted: boolean } | { kind: 'var'; name: string } | { kind: 'unsupported'; what: string; says?: string };

interface Word {
  parts: Part[];
}

interface Command {
  line: number;
  words: Word[];
  /** The operator before it and after it (`;` for a line end): `&&`/`||` make it conditional, `|` and `&` a subshell. */
  before: string;
  after: string;
  /** Inside `( … )`: a subshell, whose variables sh does not keep. */
  subshell: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const OPERATORS = new Set([';', '&', '|', '<', '>', '(', ')']);

/**
 * The text split into simple commands (a newline, `;`, `&`, `&&`, `|`, `||`, `(` and `)` end one), each a
 * list of words and what surrounds it. A redirection (`>/dev/null`, `2>&1`) belongs to its command and is
 * dropped; a here-document is refused (its lines are no commands).
 */
function commands(text: string, source: string): Command[] {
  const out: Command[] = [];
  let i = 0;
  let line = 1;
  let words: Word[] = [];
  let start = 1;
  let before = ';';
  let depth = 0;
  /** The next word is a redirection's target, not an argument. */
  let redirectTarget = false;
  const end = (op: string) => {
    redirectTarget = false;
    if (words.length) out.push({ line: start, words, before, after: op, subshell: depth > 0 });
    if (words.length || op !== ';') before = op;
    words = [];
  };
  const peek = (k = 0) => text[i + k] ?? '';

  if (text.startsWith('\ufeff')) throw new OpenrcError(source, 1, 'the file starts with a byte-order mark (U+FEFF), which sh reads as part of the first command: save it without one (as UTF-8 without BOM)');
  const nul = text.indexOf('\0');
  if (nul >= 0) throw new OpenrcError(source, text.slice(0, nul).split('\n').length, 'a NUL byte: this is no shell script');

  while (i < text.length) {
    const ch = peek();
    if (ch === '\n') {
      end(';');
      line++;
      i++;
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      i++;
      continue;
    }
    if (ch === '\\' && peek(1) === '\n') {
      // a line continuation between words
      i += 2;
      line++;
      continue;
    }
    if (ch === '#') {
      while (i < text.length && peek() !== '\n') i++;
      continue;
    }
    if (ch === '<' || ch === '>') {
      if (ch === '<' && peek(1) === '<') throw new OpenrcError(source, line, 'a here-document (<<), which this tool does not read');
      // >, >>, >|, >&, <, <&, <>: the operator, then its target word.
      i++;
      while ('<>&|'.includes(peek()) && peek() !== '') i++;
      redirectTarget = true;
      continue;
    }
    if (OPERATORS.has(ch)) {
      const two = peek(1) === ch && (ch === '&' || ch === '|');
      end(ch === '(' || ch === ')' ? ';' : two ? ch + ch : ch);
      if (ch === '(') depth++;
      if (ch === ')') depth = Math.max(0, depth - 1);
      i += two ? 2 : 1;
      continue;
    }
    if (!words.length) start = line;
    // a word: up to unquoted blank or operator
    const parts: Part[] = [];
    const addText = (s: string, quoted: boolean) => {
      const last = parts.at(-1);
      if (last?.kind === 'text' && last.quoted === quoted) last.text += s;
      else parts.push({ kind: 'text', text: s, quoted });
    };
    const dollar = (inDouble: boolean): void => {
      // at '$'
      const next = peek(1);
      if (next === '(') {
        const from = line;
        let depth = 0;
        do {
          if (peek() === '(') depth++;
          else if (peek() === ')') depth--;
          else if (peek() === '\n') line++;
          i++;
        } while (i < text.length && depth > 0);
        if (depth > 0) throw new OpenrcError(source, from, 'a $( is never closed');
        parts.push({ kind: 'unsupported', what: '$(…)' });
        return;
      }
      if (next === "'" || next === '"') {
        // bash's $'…' (escapes) and $"…" (translation); dash reads them otherwise.
        parts.push({ kind: 'unsupported', what: `$${next}…${next}`, says: `uses $${next}…${next} quoting, which bash and dash read differently` });
        i++;
        return;
      }
      if (next === '{') {
        const close = text.indexOf('}', i + 2);
        const name = close < 0 ? '' : text.slice(i + 2, close);
        if (!NAME.test(name)) throw new OpenrcError(source, line, `\${${close < 0 ? '' : name}} is not a plain variable (sh would compute it)`);
        parts.push({ kind: 'var', name });
        i = close + 1;
        return;
      }
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
      if (m) {
        parts.push({ kind: 'var', name: m[0] });
        i += 1 + m[0].length;
        return;
      }
      if (/[0-9#?$!@*-]/.test(next)) {
        parts.push({ kind: 'unsupported', what: `$${next}` });
        i += 2;
        return;
      }
      // a lone $ is itself
      addText('$', inDouble);
      i++;
    };
    while (i < text.length) {
      const c = peek();
      if (c === ' ' || c === '\t' || c === '\n' || OPERATORS.has(c)) break;
      if (c === "'") {
        const close = text.indexOf("'", i + 1);
        if (close < 0) throw new OpenrcError(source, line, "a ' is never closed");
        const s = text.slice(i + 1, close);
        line += s.split('\n').length - 1;
        addText(s, true);
        i = close + 1;
        continue;
      }
      if (c === '"') {
        const from = line;
        i++;
        for (;;) {
          if (i >= text.length) throw new OpenrcError(source, from, 'a " is never closed');
          const d = peek();
          if (d === '"') {
            i++;
            break;
          }
          if (d === '\\' && '$`"\\\n'.includes(peek(1))) {
            if (peek(1) === '\n') line++;
            else addText(peek(1), true);
            i += 2;
            continue;
          }
          if (d === '$') {
            dollar(true);
            continue;
          }
          if (d === '`') throw new OpenrcError(source, line, 'a `…` command inside "…" (sh would run it)');
          if (d === '\n') line++;
          addText(d, true);
          i++;
        }
        // "" is an empty word all the same
        if (!parts.length) addText('', true);
        continue;
      }
      if (c === '\\') {
        if (peek(1) === '\n') {
          i += 2;
          line++;
          continue;
        }
        if (i + 1 >= text.length) throw new OpenrcError(source, line, 'a \\ at the end of the file');
        addText(peek(1), true);
        i += 2;
        continue;
      }
      if (c === '`') {
        const close = text.indexOf('`', i + 1);
        if (close < 0) throw new OpenrcError(source, line, 'a ` is never closed');
        line += text.slice(i, close).split('\n').length - 1;
        parts.push({ kind: 'unsupported', what: '`…`' });
        i = close + 1;
        continue;
      }
      if (c === '$') {
        dollar(false);
        continue;
      }
      if (c === '~' && tildePlace(parts)) {
        // An unquoted ~ at a word's start, or at an assignment value's: sh puts a home directory there.
        parts.push({ kind: 'unsupported', what: '~', says: 'starts with an unquoted ~, which sh replaces with a home directory' });
        i++;
        continue;
      }
      addText(c, false);
      i++;
    }
    // A redirection's target, or its file descriptor (2>…): not a word of the command.
    const fd = parts.length === 1 && parts[0]!.kind === 'text' && !parts[0]!.quoted && /^\d+$/.test(parts[0]!.text) && (peek() === '<' || peek() === '>');
    if (redirectTarget) redirectTarget = false;
    else if (!fd) words.push({ parts });
  }
  end(';');
  return out;
}

/** Whether an unquoted ~ here is a tilde-prefix: at a word's start, or right after an assignment's `=` or a `:` in its value. */
function tildePlace(parts: Part[]): boolean {
  if (!parts.length) return true;
  const only = parts.length === 1 && parts[0]!.kind === 'text' && !parts[0]!.quoted ? parts[0]!.text : undefined;
  return only !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=(?:.*:)?$/s.test(only);
}

/** The leading unquoted NAME= of a word, if it is an assignment. */
function assignment(w: Word): { name: string; value: Part[] } | undefined {
  const first = w.parts[0];
  if (first?.kind !== 'text' || first.quoted) return undefined;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.text);
  if (!m?.[1]) return undefined;
  const rest = first.text.slice(m[0].length);
  return { name: m[1], value: [...(rest ? [{ ...first, text: rest }] : []), ...w.parts.slice(1)] };
}

/** A word that is only plain text (no expansion), e.g. `export`, `set`, `-a`. */
function literal(w: Word): string | undefined {
  return w.parts.every((p) => p.kind === 'text') ? w.parts.map((p) => (p.kind === 'text' ? p.text : '')).join('') : undefined;
}

const isOs = (name: string) => name.startsWith('OS_');

const OPENS = new Set(['if', 'while', 'until', 'for', 'case', '{']);
const CLOSES = new Set(['fi', 'done', 'esac', '}']);
const RESERVED = new Set([...OPENS, ...CLOSES, 'then', 'else', 'elif', 'do', '!']);

/**
 * `if [ -z "$X" ]; then unset X; fi` (or `test -z`), starting at command c, as three commands: X, else
 * undefined. sh unsets X when it is empty or unset.
 */
function unsetIfEmpty(cmds: readonly Command[], c: number): { name: string } | undefined {
  const words = (k: number) => cmds[k]?.words.map((w) => (w.parts.length === 1 && w.parts[0]!.kind === 'var' ? `$${w.parts[0]!.name}` : literal(w)));
  const [a, b, d] = [words(c), words(c + 1), words(c + 2)];
  if (!a || !b || !d) return undefined;
  const test = a.join(' ');
  const m = /^if (?:\[ -z (\$[A-Za-z_]\w*) \]|test -z (\$[A-Za-z_]\w*))$/.exec(test);
  const name = (m?.[1] ?? m?.[2])?.slice(1);
  if (!name || b.join(' ') !== `then unset ${name}` || d.join(' ') !== 'fi') return undefined;
  // "$X" quoted is one var part too; an unquoted $X would be word-split by sh, and the test reads the same.
  return { name };
}

export interface Openrc {
  /** The variables the file exports, by name: what a process started after `source FILE` sees of it. */
  exported: Record<string, string>;
  /** Variables the file sets without exporting, with their line (to explain a "missing" one). */
  unexported: Record<string, number>;
}

/**
 * Reads an openrc as sh would when sourcing it, for the OS_* variables: exact values, or an OpenrcError
 * naming the line of an OS_* value it cannot know without running something.
 */
export function parseOpenrc(text: string, source = 'admin-openrc.sh'): Openrc {
  const shell: Record<string, string> = {};
  /** Set by the file to something only running it would tell (`$(…)`, `$HOME`, …). */
  const computed = new Set<string>();
  const exportedNames = new Set<string>();
  const setOn: Record<string, number> = {};
  let allExport = false;

  const value = (parts: Part[], name: string, line: number): string => {
    const v = parts
      .map((p) => {
        if (p.kind === 'text') return p.text;
        if (p.kind === 'unsupported') throw new OpenrcError(source, line, `${name}'s value ${p.says ?? `runs ${p.what}, which this tool does not do`}`);
        const got = shell[p.name];
        if (got === undefined) throw new OpenrcError(source, line, `${name}'s value uses $${p.name}, which this file ${computed.has(p.name) ? 'computes (sh would run something for it)' : 'does not set'}`);
        return got;
      })
      .join('');
    if (v.includes('\r')) throw new OpenrcError(source, line, `${name}'s value holds a carriage return (Windows line ends?), which sh keeps as part of it`);
    return v;
  };
  /** An OS_* value must be known exactly; any other one is only needed if an OS_* value uses it. */
  const assign = (name: string, parts: Part[], line: number): void => {
    setOn[name] = line;
    if (isOs(name)) {
      shell[name] = value(parts, name, line);
      return;
    }
    try {
      shell[name] = value(parts, name, line);
      computed.delete(name);
    } catch {
      delete shell[name];
      computed.add(name);
    }
  };

  const cmds = commands(text, source);
  /** Depth of if/while/until/for/case/{ … } around the command: what runs there depends on a condition or a call. */
  let compound = 0;
  for (let c = 0; c < cmds.length; c++) {
    const raw = cmds[c]!;
    // Reserved words that open, continue or close a compound command come first in a command's words.
    let skip = 0;
    for (const w of raw.words) {
      const l = literal(w);
      if (l === undefined || !RESERVED.has(l)) break;
      if (OPENS.has(l)) compound++;
      if (CLOSES.has(l)) compound = Math.max(0, compound - 1);
      skip++;
    }
    const cmd = { ...raw, words: raw.words.slice(skip) };
    if (!cmd.words.length) continue;
    const head = literal(cmd.words[0]!);
    const assigns = cmd.words.map(assignment);
    const touchesOs = cmd.words.some((w, k) => {
      const a = assigns[k];
      if (a) return isOs(a.name);
      const l = literal(w);
      return l !== undefined && isOs(l) && NAME.test(l);
    });

    // The openrc Horizon hands out: `if [ -z "$OS_X" ]; then unset OS_X; fi` unsets what is empty.
    const idiom = unsetIfEmpty(cmds, c);
    if (idiom) {
      if (!shell[idiom.name]) {
        delete shell[idiom.name];
        delete setOn[idiom.name];
        exportedNames.delete(idiom.name);
      }
      c += 2;
      compound = Math.max(0, compound - 1);
      continue;
    }
    if (touchesOs) {
      const where = compound > 0 ? 'inside if/while/for/case/{ … }, which this tool does not evaluate: whether sh sets it depends on what runs'
        : cmd.subshell ? 'inside ( … ), a subshell, whose variables sh does not keep'
          : cmd.after === '&' ? 'in a command run in the background (&), a subshell, whose variables sh does not keep'
            : cmd.after === '|' || cmd.before === '|' ? 'in a pipeline (|), whose commands run in subshells, whose variables sh does not keep'
              : cmd.before === '&&' || cmd.before === '||' ? `after ${cmd.before}, so whether sh sets it depends on the command before`
                : undefined;
      if (where) throw new OpenrcError(source, cmd.line, `an OS_* variable is set ${where}`);
      if (head === 'read') {
        const names = cmd.words.slice(1).map(literal).filter((l): l is string => !!l && isOs(l) && NAME.test(l));
        throw new OpenrcError(source, cmd.line, `\`read\` asks the terminal for ${names.join(', ')} (as Horizon's openrc does for the password), which a run cannot answer: put the value in the file (export OS_PASSWORD='…'), or give the credentials another way (OS_* here, --os-cloud)`);
      }
    }

    if (head === 'export' && cmd.words.length > 1) {
      for (let k = 1; k < cmd.words.length; k++) {
        const a = assigns[k];
        const w = cmd.words[k]!;
        if (a) {
          assign(a.name, a.value, cmd.line);
          exportedNames.add(a.name);
          continue;
        }
        const l = literal(w);
        if (l === '-n' || l === '-p' || l === '--') {
          if (touchesOs) throw new OpenrcError(source, cmd.line, `export ${l} … does not set what it seems to`);
          break;
        }
        if (l === undefined || !NAME.test(l)) {
          if (touchesOs) throw new OpenrcError(source, cmd.line, `export: ${l ?? 'a computed word'} is not a variable name`);
          break;
        }
        exportedNames.add(l);
      }
      continue;
    }

    if (assigns.every((a) => a !== undefined)) {
      // NAME=value … alone on a command: set in the shell (exported only under set -a or an export)
      for (const a of assigns as { name: string; value: Part[] }[]) {
        assign(a.name, a.value, cmd.line);
        if (allExport) exportedNames.add(a.name);
      }
      continue;
    }

    if (head === 'set') {
      for (const w of cmd.words.slice(1)) {
        const l = literal(w) ?? '';
        if (/^-[a-z]*a/.test(l)) allExport = true;
        if (/^\+[a-z]*a/.test(l)) allExport = false;
      }
      continue;
    }

    if (head === 'unset') {
      for (const w of cmd.words.slice(1)) {
        const l = literal(w);
        if (l && NAME.test(l)) {
          delete shell[l];
          delete setOn[l];
          computed.delete(l);
          exportedNames.delete(l);
        }
      }
      continue;
    }

    if (touchesOs) {
      const first = assigns.findIndex((a) => a === undefined);
      throw new OpenrcError(source, cmd.line, first > 0
        ? `the OS_* assignment only prefixes the command ${literal(cmd.words[first]!) ?? '…'}, so sh does not keep it`
        : 'an OS_* variable in a command this tool does not read (only `export NAME=value` and `NAME=value` lines)');
    }
    // anything else (echo, if, source, alias, …) sets no OS_* variable: skipped
  }

  const exported: Record<string, string> = {};
  const unexported: Record<string, number> = {};
  for (const [k, v] of Object.entries(shell)) {
    if (exportedNames.has(k)) exported[k] = v;
    else if (setOn[k] !== undefined) unexported[k] = setOn[k];
  }
  return { exported, unexported };
}

/**
 * Admin credentials from an openrc file (the guide's ~/openstack/admin-openrc.sh): what a process sees
 * after `source FILE`. The password is wrapped at once.
 */
export function adminCredentialsFromOpenrc(text: string, source = 'admin-openrc.sh'): AdminCredentials {
  const rc = parseOpenrc(text, source);
  return credentialsFrom(rc.exported, source, rc.unexported);
}

/** Admin credentials from OS_* variables (the local environment, or a parsed openrc). */
export function adminCredentialsFromEnv(env: Record<string, string | undefined>, source = 'the OS_* environment'): AdminCredentials {
  return credentialsFrom(env, source, {});
}

function credentialsFrom(env: Record<string, string | undefined>, source: string, unexported: Record<string, number>): AdminCredentials {
  const project = env.OS_PROJECT_NAME || env.OS_TENANT_NAME;
  const missing = [
    ...['OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD'].filter((k) => !env[k]),
    ...(project ? [] : ['OS_PROJECT_NAME (or the v2.0 OS_TENANT_NAME)']),
  ];
  if (missing.length) {
    const notExported = Object.keys(unexported).filter((k) => missing.some((m) => m.startsWith(k) || m.includes(`${k})`)));
    const why = notExported.length ? ` (${notExported.map((k) => `${k} is set on line ${unexported[k]} but never exported`).join('; ')})` : '';
    throw new KeystoneError(`${source} lacks ${missing.join(', ')}${why}`, 'source a complete admin-openrc (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME or OS_TENANT_NAME, and the domains for v3), exported', { method: '-', path: '-' });
  }
  const creds: AdminCredentials = {
    authUrl: env.OS_AUTH_URL as string,
    username: env.OS_USERNAME as string,
    password: new Secret(env.OS_PASSWORD as string),
    projectName: project as string,
    // v2.0 users and tenants live in the default domain, whose name is "Default"
    // (keystone 2014.2 keystone/common/sql/migration_helpers.py get_default_domain)
    userDomainName: env.OS_USER_DOMAIN_NAME || 'Default',
    projectDomainName: env.OS_PROJECT_DOMAIN_NAME || 'Default',
  };
  // An id given without a name is the domain to use (Kilo–Mitaka guides: OS_PROJECT_DOMAIN_ID=default).
  if (env.OS_USER_DOMAIN_ID && !env.OS_USER_DOMAIN_NAME) creds.userDomainId = env.OS_USER_DOMAIN_ID;
  if (env.OS_PROJECT_DOMAIN_ID && !env.OS_PROJECT_DOMAIN_NAME) creds.projectDomainId = env.OS_PROJECT_DOMAIN_ID;
  return creds;
}

/** What OS_* variables say besides the login (an openrc, or the local environment). */
export interface OsExtras {
  /** OS_CACERT as written: a path on the machine whose environment or openrc it is. */
  cacert?: string;
  /** OS_INSECURE=true (as openstacksdk reads it: "true" in any case). */
  insecure: boolean;
  /** OS_REGION_NAME */
  regionName?: string;
  /** OS_INTERFACE (or the older OS_ENDPOINT_TYPE). */
  interface?: 'public' | 'internal' | 'admin';
  /** OS_IDENTITY_API_VERSION */
  identityApiVersion?: string;
}

const INTERFACES: Record<string, 'public' | 'internal' | 'admin'> = { public: 'public', publicURL: 'public', internal: 'internal', internalURL: 'internal', admin: 'admin', adminURL: 'admin' };

/** OS_CACERT, OS_INSECURE, OS_REGION_NAME, OS_INTERFACE, OS_IDENTITY_API_VERSION, checked. */
export function osExtras(vars: Readonly<Record<string, string | undefined>>, source: string): OsExtras {
  const bad = (what: string, hint: string) => new KeystoneError(`${source}: ${what}`, hint, { method: '-', path: '-' });
  const rawInterface = vars.OS_INTERFACE || vars.OS_ENDPOINT_TYPE;
  const iface = rawInterface ? INTERFACES[rawInterface] : undefined;
  if (rawInterface && !iface) throw bad(`${vars.OS_INTERFACE ? 'OS_INTERFACE' : 'OS_ENDPOINT_TYPE'}=${rawInterface} is not an interface`, 'use public, internal or admin');
  const version = vars.OS_IDENTITY_API_VERSION;
  if (version && !/^(2(\.0)?|3(\.\d+)?)$/.test(version)) throw bad(`OS_IDENTITY_API_VERSION=${version}`, 'use 3 (Keystone v3; a v2.0 openrc is read as v3 on the same host)');
  return {
    ...(vars.OS_CACERT ? { cacert: vars.OS_CACERT } : {}),
    insecure: (vars.OS_INSECURE ?? '').toLowerCase() === 'true',
    ...(vars.OS_REGION_NAME ? { regionName: vars.OS_REGION_NAME } : {}),
    ...(iface ? { interface: iface } : {}),
    ...(version ? { identityApiVersion: version } : {}),
  };
}
