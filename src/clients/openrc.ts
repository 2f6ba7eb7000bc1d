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
type Part = { kind: 'text'; text: string; quoted: boolean } | { kind: 'var'; name: string } | { kind: 'unsupported'; what: string };

interface Word {
  parts: Part[];
}

interface Command {
  line: number;
  words: Word[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const OPERATORS = new Set([';', '&', '|', '<', '>', '(', ')']);

/** The text split into simple commands (newline, `;`, `&`, `|` end one), each a list of words. */
function commands(text: string, source: string): Command[] {
  const out: Command[] = [];
  let i = 0;
  let line = 1;
  let words: Word[] = [];
  let start = 1;
  const end = () => {
    if (words.length) out.push({ line: start, words });
    words = [];
  };
  const peek = (k = 0) => text[i + k] ?? '';

  while (i < text.length) {
    const ch = peek();
    if (ch === '\n') {
      end();
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
    if (OPERATORS.has(ch)) {
      end();
      i++;
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
      addText(c, false);
      i++;
    }
    words.push({ parts });
  }
  end();
  return out;
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
        if (p.kind === 'unsupported') throw new OpenrcError(source, line, `${name}'s value runs ${p.what}, which this tool does not do`);
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

  for (const cmd of commands(text, source)) {
    const head = literal(cmd.words[0]!);
    const assigns = cmd.words.map(assignment);
    const touchesOs = cmd.words.some((w, k) => {
      const a = assigns[k];
      if (a) return isOs(a.name);
      const l = literal(w);
      return l !== undefined && isOs(l) && NAME.test(l);
    });

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
