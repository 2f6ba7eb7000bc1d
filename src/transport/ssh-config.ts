// ssh_config(5) as OpenSSH applies it, for one host name: the `ssh-config` package parses the file
// (quoting, `=`, Host/Match sections); which values apply is decided here, because its compute() lets
// `?` match no character, runs `Match exec` commands, and cannot tell whether ProxyCommand or ProxyJump
// came first. Pure: files are read through an injected `io`, and the result is ConnectOptions.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { hostNameProblem, shownName, userNameProblem } from './names.ts';
import SSHConfig from 'ssh-config';
import type { ConnectOptions } from './ssh.ts';

/** A config file that cannot be used as it is, or a setting install-glance will not silently ignore. */
export class SshConfigError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'SshConfigError';
  }
}

/** One directive; Host and Match carry the lines under them, Include the files it named. */
interface Entry {
  keyword: string;
  args: string[];
  file: string;
  body?: Entry[];
  included?: Entry[][];
}

export interface SshConfig {
  file: string;
  entries: Entry[];
}

export interface ConfigIo {
  /** The file's text, or undefined when it does not exist. */
  readFile(file: string): string | undefined;
  /** Names in a directory ([] when there is none), for Include's wildcards. */
  listDir(dir: string): string[];
}

/** Who runs this: the values of the %d %u %i %l %L tokens and ${VAR}. */
export interface LocalContext {
  home: string;
  localUser: string;
  uid: number;
  localHost: string;
  env: Record<string, string | undefined>;
}

export function localContext(): LocalContext {
  let localUser = process.env.USER ?? 'root';
  try {
    localUser = os.userInfo().username;
  } catch { /* no passwd entry: keep $USER */ }
  return { home: process.env.HOME ?? os.homedir(), localUser, uid: process.getuid?.() ?? 0, localHost: os.hostname(), env: process.env };
}

export const realIo: ConfigIo = {
  readFile: (file) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SshConfigError(`cannot read the ssh config ${file}: ${(e as Error).message}`, 'fix its permissions, or name another file with --ssh-config');
    }
  },
  listDir: (dir) => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  },
};

const MAX_INCLUDE_DEPTH = 16;

/** Reads FILE and what it includes. A file that does not exist is an empty config. */
export function loadSshConfig(file: string, ctx: LocalContext, io: ConfigIo = realIo): SshConfig {
  return { file, entries: loadFile(file, ctx, io, 0) ?? [] };
}

function loadFile(file: string, ctx: LocalContext, io: ConfigIo, depth: number): Entry[] | undefined {
  const text = io.readFile(file);
  if (text === undefined) return undefined;
  let parsed: SSHConfig;
  try {
    parsed = SSHConfig.parse(text);
  } catch (e) {
    throw new SshConfigError(`cannot parse the ssh config ${file}: ${(e as Error).message}`, 'fix the file (ssh -G -F FILE HOST shows what OpenSSH makes of it)');
  }
  const toEntries = (lines: SSHConfig): Entry[] => {
    const out: Entry[] = [];
    for (const line of lines) {
      if (line.type !== SSHConfig.DIRECTIVE) continue;
      const args = Array.isArray(line.value) ? line.value.map((v) => v.val) : [line.value];
      const e: Entry = { keyword: line.param.toLowerCase(), args, file };
      if ('config' in line) e.body = toEntries(line.config);
      if (e.keyword === 'include') e.included = includeFiles(e, ctx, io, depth);
      out.push(e);
    }
    return out;
  };
  return toEntries(parsed);
}

/** Include's files, in lexical order per pattern; relative paths are under ~/.ssh (a user config). */
function includeFiles(e: Entry, ctx: LocalContext, io: ConfigIo, depth: number): Entry[][] {
  if (depth + 1 > MAX_INCLUDE_DEPTH) throw new SshConfigError(`${e.file}: Include nested more than ${MAX_INCLUDE_DEPTH} deep`, 'an Include probably includes itself; fix the file');
  const files: Entry[][] = [];
  for (const arg of e.args) {
    if (/%[^%]/.test(arg.replace(/%%/g, ''))) {
      throw new SshConfigError(`${e.file}: "Include ${arg}" uses a % token, which install-glance does not expand in Include`, 'name the file without tokens, or use --ssh-config with a file that has what this host needs');
    }
    let p = expandTilde(expandEnv(arg, ctx, 'Include', e.file), ctx, 'Include', e.file);
    if (!path.isAbsolute(p)) p = path.join(ctx.home, '.ssh', p);
    const dir = path.dirname(p);
    const base = path.basename(p);
    if (/[*?[]/.test(dir)) throw new SshConfigError(`${e.file}: "Include ${arg}" has a wildcard in a directory name, which install-glance does not expand`, 'put the wildcard in the file name only');
    const names = /[*?[]/.test(base) ? io.listDir(dir).filter((n) => globMatch(base, n) && !n.startsWith('.')).sort() : [base];
    for (const n of names) {
      const entries = loadFile(path.join(dir, n), ctx, io, depth + 1);
      if (entries) files.push(entries);
    }
  }
  return files;
}

/** glob(7) for one file name: *, ? and [set]. */
function globMatch(pattern: string, name: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(name);
}

/** OpenSSH's match_pattern: `*` any run, `?` exactly one character, case as written. */
export function patternMatch(pattern: string, text: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(text);
}

/** A comma-separated pattern list as Match host/user take it: any `!pattern` that matches vetoes. */
function patternListMatch(list: string, text: string): boolean {
  let positive = false;
  for (const p of list.split(',')) {
    if (p.startsWith('!')) {
      if (patternMatch(p.slice(1), text)) return false;
    } else if (patternMatch(p, text)) positive = true;
  }
  return positive;
}

/** A Host line: some pattern matches and no negated one does. */
export function hostMatches(patterns: string[], host: string): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (patternMatch(p.slice(1), host)) return false;
    } else if (patternMatch(p, host)) hit = true;
  }
  return hit;
}

/** Keywords whose value changes where or how we connect: never dropped without a word. */
const HONOURED = new Set(['hostname', 'user', 'port', 'identityfile', 'identitiesonly', 'identityagent', 'userknownhostsfile',
  'proxyjump', 'proxycommand', 'connecttimeout', 'stricthostkeychecking', 'include']);

/** Settings that would change the connection but that install-glance does not implement: a note each. */
const IGNORED_WITH_NOTE: Record<string, (v: string) => boolean> = {
  hostkeyalias: () => true,
  canonicalizehostname: (v) => !/^(no|false)$/i.test(v),
  bindaddress: () => true,
  bindinterface: () => true,
  addressfamily: (v) => !/^any$/i.test(v),
  certificatefile: () => true,
  globalknownhostsfile: () => true,
  knownhostscommand: (v) => !/^none$/i.test(v),
  pkcs11provider: (v) => !/^none$/i.test(v),
};

/** What the command line gave; like ssh's -l, -p, -i and -o UserKnownHostsFile, these win over the file. */
export interface CommandLine {
  user?: string;
  port?: number;
  identity?: string;
  knownHostsFile?: string;
  acceptNewHostKey?: boolean;
}

export interface Resolved {
  options: ConnectOptions;
  /** One line each, for stderr: settings seen but not honoured as OpenSSH would. */
  notes: string[];
}

interface JumpSpec { user?: string; host: string; port?: number }

/** First value wins, as in ssh; IdentityFile accumulates; ProxyJump and ProxyCommand compete. */
interface Collected {
  values: Map<string, { args: string[]; file: string }>;
  identityFiles: string[];
  proxyJump?: string;
  proxyCommand?: string;
  notes: string[];
}

const MAX_JUMPS = 8;

/**
 * The ConnectOptions for NAME: its Host/Match blocks applied in file order, tokens expanded, ProxyJump
 * hops resolved each under its own name (with their own users, keys and known_hosts), and the command
 * line on top for the target itself (ssh passes none of -l/-p/-i/-o to a jump host).
 */
export function resolveHost(config: SshConfig, name: string, cli: CommandLine = {}, ctx: LocalContext = localContext()): Resolved {
  const notes: string[] = [];
  const target = resolveOne(config, name, cli, ctx, notes, [], undefined);
  return { options: target, notes: [...new Set(notes)] };
}

function resolveOne(config: SshConfig, name: string, cli: CommandLine, ctx: LocalContext, notes: string[], through: string[], forcedJump: JumpSpec[] | undefined): ConnectOptions {
  const loop = (what: string) => new SshConfigError(`ProxyJump for ${through[0] ?? name} ${what}: ${[...through, name].join(' → ')}`, `check the ProxyJump lines in ${config.file} (a Host pattern that also matches the jump host, e.g. "Host *.example !bastion.example", is the usual cause)`);
  if (through.includes(name)) throw loop('loops');
  if (through.length > MAX_JUMPS) throw loop(`goes more than ${MAX_JUMPS} hops deep`);
  const c: Collected = { values: new Map(), identityFiles: [], notes };
  if (cli.user) c.values.set('user', { args: [cli.user], file: 'the command line' });
  walk(config.entries, name, c, ctx, true, false);

  const get = (k: string) => c.values.get(k)?.args;
  const from = (k: string) => c.values.get(k)?.file ?? config.file;
  const rawHost = get('hostname')?.[0];
  const hostName = rawHost ? expandTokens(rawHost, { h: name }, 'HostName', from('hostname')) : name;
  const portArg = get('port')?.[0];
  const port = cli.port ?? (portArg === undefined ? undefined : parsePort(portArg, `${from('port')}: Port ${portArg}`));
  const rawUser = get('user')?.[0];
  const user = cli.user ?? (rawUser === undefined ? undefined : expandTokens(expandEnv(rawUser, ctx, 'User', from('user')), localTokens(ctx, { h: hostName, n: name, p: String(port ?? 22) }), 'User', from('user')));
  const remoteUser = user ?? 'root';
  const jumpText = forcedJump !== undefined ? undefined : c.proxyJump;
  const tokens: Record<string, string> = { ...localTokens(ctx, { h: hostName, n: name, p: String(port ?? 22), r: remoteUser, k: name }), j: jumpText && !/^none$/i.test(jumpText) ? jumpText : '' };
  tokens.C = crypto.createHash('sha1').update(`${ctx.localHost}${hostName}${port ?? 22}${remoteUser}${tokens.j}`).digest('hex');
  const filePath = (arg: string, what: string, file: string) => expandTilde(expandTokens(expandEnv(arg, ctx, what, file), tokens, what, file), ctx, what, file);

  if (c.proxyCommand && !/^none$/i.test(c.proxyCommand) && forcedJump === undefined) {
    throw new SshConfigError(`${config.file}: ${name} is reached through "ProxyCommand ${c.proxyCommand}", which install-glance does not run`,
      `if it is an ssh -W hop, write it as ProxyJump (e.g. "ProxyJump user@bastion"); or add a Host block for ${name} with "ProxyCommand none" before this one`);
  }

  const badHost = hostNameProblem(hostName);
  if (badHost) {
    throw new SshConfigError(`${rawHost ? `${from('hostname')}: HostName for ${shownName(name)}` : `the host ${shownName(name)}`} is ${shownName(hostName)}: ${badHost}`,
      rawHost ? `correct the HostName line in ${from('hostname')}` : 'give the host\'s name or address as DNS or /etc/hosts knows it');
  }
  const badUser = user === undefined ? undefined : userNameProblem(user);
  if (badUser) {
    throw new SshConfigError(`${cli.user ? 'the user' : `${from('user')}: User`} for ${shownName(name)} is ${shownName(user!)}: ${badUser}`,
      cli.user ? 'give the login name as it is on the host' : `correct the User line in ${from('user')}`);
  }
  const opts: ConnectOptions = { host: hostName, alias: name };
  if (port !== undefined) opts.port = port;
  if (user !== undefined) opts.user = user;
  if (cli.identity) opts.identity = cli.identity;
  if (c.identityFiles.length) {
    opts.identityFiles = c.identityFiles.some((f) => /^none$/i.test(f)) ? [] : c.identityFiles.map((f) => filePath(f, 'IdentityFile', from('identityfile')));
  }
  const only = get('identitiesonly')?.[0];
  if (only !== undefined) opts.identitiesOnly = parseFlag(only, `${from('identitiesonly')}: IdentitiesOnly ${only}`);
  const agent = get('identityagent')?.[0];
  if (agent !== undefined) {
    // "SSH_AUTH_SOCK" and "$VAR" name an environment variable; anything else is a path.
    const v = /^\$?([A-Za-z_]\w*)$/.exec(agent);
    if (/^none$/i.test(agent)) opts.agent = false;
    else if (agent === 'SSH_AUTH_SOCK' || (v && agent.startsWith('$'))) opts.agent = ctx.env[v![1]!] ?? false;
    else opts.agent = filePath(agent, 'IdentityAgent', from('identityagent'));
  }
  const kh = get('userknownhostsfile');
  if (cli.knownHostsFile) opts.knownHostsFile = cli.knownHostsFile;
  else if (kh) {
    const files = kh.some((f) => /^none$/i.test(f)) ? ['/dev/null'] : kh.map((f) => filePath(f, 'UserKnownHostsFile', from('userknownhostsfile')));
    opts.knownHostsFile = files.length === 1 ? files[0]! : files;
  }
  const timeout = get('connecttimeout')?.[0];
  if (timeout !== undefined && !/^none$/i.test(timeout)) {
    const s = Number(timeout);
    if (!Number.isInteger(s) || s <= 0) throw new SshConfigError(`${from('connecttimeout')}: ConnectTimeout ${timeout} is not a number of seconds`, 'write a whole number of seconds, e.g. ConnectTimeout 10');
    opts.timeoutMs = s * 1000;
  }
  const strict = get('stricthostkeychecking')?.[0]?.toLowerCase();
  if (strict === 'accept-new') opts.acceptNewHostKey = true;
  else if (strict === 'no' || strict === 'off' || strict === 'false') {
    notes.push(`ssh config: "StrictHostKeyChecking ${strict}" for ${name} is not honoured: its host key is still checked against known_hosts; --accept-new-host-key records a new one (a changed one is always refused)`);
  }
  if (cli.acceptNewHostKey) opts.acceptNewHostKey = true;
  for (const [k, accept] of Object.entries(IGNORED_WITH_NOTE)) {
    const v = c.values.get(k);
    if (v && accept(v.args.join(' '))) notes.push(`ssh config: ${k} "${v.args.join(' ')}" for ${name} is not supported by install-glance and is ignored`);
  }

  // The hops: ssh reaches a list a,b,c as `ssh -J a,b -W target c`, so c's own ProxyJump is overridden
  // by a,b while the first hop's own ProxyJump (if any) still applies.
  const list = forcedJump !== undefined ? forcedJump : jumpText && !/^none$/i.test(jumpText) ? parseJumpList(expandTokens(jumpText, { h: hostName, n: name, p: String(port ?? 22), r: remoteUser }, 'ProxyJump', from('proxyjump')), from('proxyjump')) : null;
  if (list && list.length) {
    const hopCli = { acceptNewHostKey: cli.acceptNewHostKey };
    const last = list[list.length - 1]!;
    const before = list.slice(0, -1);
    const hop = resolveOne(config, last.host, { ...hopCli, user: last.user, port: last.port }, ctx, notes, [...through, name], before.length ? before : undefined);
    const chain = [...(hop.jump ?? []), { ...hop, jump: undefined }];
    for (const h of chain) delete h.jump;
    if (chain.some((h) => h.host === hostName && (h.port ?? 22) === (port ?? 22) && (h.user ?? 'root') === remoteUser)) throw loop('loops back to itself');
    opts.jump = chain;
  }
  return opts;
}

function walk(entries: Entry[], name: string, c: Collected, ctx: LocalContext, active: boolean, never: boolean): void {
  for (const e of entries) {
    if (e.keyword === 'host') {
      const on = !never && hostMatches(e.args, name);
      walk(e.body ?? [], name, c, ctx, on, never || !on);
    } else if (e.keyword === 'match') {
      const on = !never && matchApplies(e, name, c, ctx);
      walk(e.body ?? [], name, c, ctx, on, never || !on);
    } else if (e.keyword === 'include') {
      for (const f of e.included ?? []) walk(f, name, c, ctx, active, never || !active);
    } else if (active) {
      set(c, e);
    }
  }
}

function set(c: Collected, e: Entry): void {
  const k = e.keyword;
  if (k === 'identityfile') {
    c.identityFiles.push(...e.args);
  } else if (k === 'proxyjump') {
    const v = e.args.join(' ').replace(/\s*#.*$/, '');
    if (/^none$/i.test(v)) c.proxyJump ??= 'none';
    else if (c.proxyJump === undefined && c.proxyCommand === undefined) {
      c.proxyJump = v;
      c.proxyCommand = 'none';
    }
  } else if (k === 'proxycommand') {
    c.proxyCommand ??= e.args.join(' ');
  } else if (!c.values.has(k)) {
    c.values.set(k, { args: e.args, file: e.file });
  }
}

/** A Match line's criteria, those that can be known here; a block that cannot be decided and sets
 *  something that changes the connection is refused, never guessed. */
function matchApplies(e: Entry, name: string, c: Collected, ctx: LocalContext): boolean {
  const args = e.args;
  const currentHost = () => {
    const h = c.values.get('hostname')?.args[0];
    return h ? h.replace(/%h/g, name).replace(/%%/g, '%') : name;
  };
  for (let i = 0; i < args.length; i++) {
    const raw = args[i]!;
    const negate = raw.startsWith('!');
    const crit = (negate ? raw.slice(1) : raw).toLowerCase();
    let result: boolean | undefined;
    if (crit === 'all') result = true;
    else if (['host', 'originalhost', 'user', 'localuser'].includes(crit)) {
      const arg = args[++i] ?? '';
      const subject = crit === 'host' ? currentHost() : crit === 'originalhost' ? name : crit === 'user' ? c.values.get('user')?.args[0] ?? 'root' : ctx.localUser;
      result = patternListMatch(arg, subject);
    } else {
      // exec, canonical, final, localnetwork, tagged, command, version, sessiontype, …
      const takesArg = !['canonical', 'final'].includes(crit);
      const shown = takesArg ? `${raw} ${args[i + 1] ?? ''}` : raw;
      const sets = (e.body ?? []).map((b) => b.keyword).filter((k) => HONOURED.has(k) && wouldTakeEffect(c, k));
      if (sets.length) {
        throw new SshConfigError(`${e.file}: "Match ${args.join(' ')}" sets ${[...new Set(sets)].join(', ')}, and install-glance cannot evaluate "${shown.trim()}"`,
          `put what ${name} needs in a "Host ${name}" block before that Match (first value wins), or name another file with --ssh-config`);
      }
      return false;
    }
    if (negate) result = !result;
    if (!result) return false;
  }
  return true;
}

/** Whether a value for K set now would still apply (first value wins; IdentityFile adds up). */
function wouldTakeEffect(c: Collected, k: string): boolean {
  if (k === 'identityfile' || k === 'include') return true;
  if (k === 'proxyjump') return c.proxyJump === undefined && c.proxyCommand === undefined;
  if (k === 'proxycommand') return c.proxyCommand === undefined;
  return !c.values.has(k);
}

function localTokens(ctx: LocalContext, remote: Record<string, string>): Record<string, string> {
  return { d: ctx.home, u: ctx.localUser, i: String(ctx.uid), l: ctx.localHost, L: ctx.localHost.split('.')[0]!, ...remote };
}

/** %x tokens; an unknown one is an error, as in ssh. */
function expandTokens(s: string, tokens: Record<string, string>, what: string, file: string): string {
  return s.replace(/%(.)/g, (_, t: string) => {
    if (t === '%') return '%';
    const v = tokens[t];
    if (v === undefined) throw new SshConfigError(`${file}: ${what} "${s}" uses %${t}, which ${what} does not take here`, 'see TOKENS in ssh_config(5) for the ones it does');
    return v;
  });
}

function expandEnv(s: string, ctx: LocalContext, what: string, file: string): string {
  return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, v: string) => {
    const val = ctx.env[v];
    if (val === undefined) throw new SshConfigError(`${file}: ${what} "${s}" names \${${v}}, which is not set`, `set ${v}, or write the path out`);
    return val;
  });
}

function expandTilde(s: string, ctx: LocalContext, what: string, file: string): string {
  if (s === '~' || s.startsWith('~/')) return ctx.home + s.slice(1);
  const m = /^~([^/]+)(\/.*)?$/.exec(s);
  if (m) {
    if (m[1] === ctx.localUser) return ctx.home + (m[2] ?? '');
    throw new SshConfigError(`${file}: ${what} "${s}" names another user's home, which install-glance does not look up`, 'write the path out');
  }
  return s;
}

function parsePort(s: string, where: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw new SshConfigError(`${where} is not a port number`, 'write a number from 1 to 65535');
  return n;
}

function parseFlag(s: string, where: string): boolean {
  if (/^(yes|true)$/i.test(s)) return true;
  if (/^(no|false)$/i.test(s)) return false;
  throw new SshConfigError(`${where}: expected yes or no`, 'write yes or no');
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated; IPv6 in brackets. */
export function parseJumpList(text: string, file: string): JumpSpec[] {
  return text.split(',').map((part) => {
    const s = part.trim().replace(/^ssh:\/\//, '').replace(/\/$/, '');
    const at = s.lastIndexOf('@');
    const user = at >= 0 ? s.slice(0, at) : undefined;
    const rest = at >= 0 ? s.slice(at + 1) : s;
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(rest);
    if (!m || !m[1] || user === '') throw new SshConfigError(`${file}: ProxyJump "${text}" has a hop "${part}" that is not [user@]host[:port]`, 'write each hop as [user@]host[:port], separated by commas');
    const spec: JumpSpec = { host: m[1] };
    if (user) spec.user = user;
    if (m[2]) spec.port = parsePort(m[2], `${file}: ProxyJump "${text}"`);
    return spec;
  });
}
