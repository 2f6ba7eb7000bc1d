// Facts: what the plan needs from the controller's shell, in one round trip. Each fact is a shell
// snippet and a pure parser (pyinfra's habit); the engine joins every fact a playbook declares, plus
// its own few, into one script whose output is split into sections again. A fact nobody declared is
// fetched when first asked for, at the cost of one more round trip.
import type { Transport } from '../transport/ssh.ts';

export interface FactSpec<T> {
  /** Names the section; two specs with the same key are the same fact. */
  readonly key: string;
  /** POSIX sh, run with stderr discarded; prints the fact's raw text on stdout. */
  readonly script: string;
  parse(raw: string): T;
}

export function defineFact<T>(key: string, script: string, parse: (raw: string) => T): FactSpec<T> {
  if (key.includes('\n')) throw new Error(`a fact key is one line: ${JSON.stringify(key)}`);
  return { key, script, parse };
}

/** Single-quoted for sh: any text, including quotes, reaches the command as one word. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface OsFacts {
  /** os-release VERSION_CODENAME, or the codename found in VERSION (Ubuntu 14.04 has no VERSION_CODENAME). */
  codename: string;
  osName: string;
  init: 'systemd' | 'sysvinit' | 'upstart';
}

export const osFact = defineFact('os', 'cat /etc/os-release', parseOsRelease);

export const initFact = defineFact(
  'init',
  'if [ -d /run/systemd/system ]; then echo systemd; elif [ -x /sbin/initctl ] && /sbin/initctl version 2>/dev/null | grep -q upstart; then echo upstart; else echo sysvinit; fi',
  (raw): OsFacts['init'] => {
    const v = raw.trim();
    return v === 'systemd' || v === 'upstart' ? v : 'sysvinit';
  },
);

export function parseOsRelease(raw: string): Omit<OsFacts, 'init'> {
  const os = Object.fromEntries(
    raw.split('\n').map((l) => /^([A-Z_]+)=(.*)$/.exec(l)).filter((m): m is RegExpExecArray => !!m).map((m) => [m[1], m[2]!.replace(/^"|"$/g, '')]),
  ) as Record<string, string>;
  return {
    // Debian: VERSION="12 (bookworm)"; Ubuntu 14.04: VERSION="14.04.5 LTS, Trusty Tahr".
    codename: os.VERSION_CODENAME ?? (/\((\w+)\)|, (\w+)/.exec(os.VERSION ?? '')?.slice(1).find(Boolean) ?? '').toLowerCase(),
    osName: os.PRETTY_NAME ?? 'unknown',
  };
}

const END = '==> end';

/** The one script: a header line per fact, each fact in a subshell so one that exits cannot end the rest. */
export function factsScript(specs: readonly FactSpec<unknown>[]): string {
  return ['exec 2>/dev/null', ...specs.map((s) => `echo ${shq(`==> ${s.key}`)}; (\n${s.script}\n)`), `echo '${END}'`].join('\n');
}

/** The script's output back into one raw text per fact key. */
export function splitSections(out: string): Map<string, string> {
  const sections = new Map<string, string>();
  let key = '';
  let buf: string[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('==> ')) {
      if (key) sections.set(key, buf.join('\n'));
      key = line.slice(4);
      buf = [];
    } else buf.push(line);
  }
  if (key) sections.set(key, buf.join('\n'));
  return sections;
}

/** Runs the facts script somewhere and hands back its exit status and stdout. */
export type FactsRunner = (script: string, limit: { timeoutMs: number; what: string }) => Promise<{ code: number; stdout: string }>;

// A fact is a quick read; one that blocks (a hung NFS mount, a stuck dpkg-query) must not hold the run.
export const FACTS_LIMIT = { timeoutMs: 60_000, what: 'the fact-gathering script' };

/**
 * Runs the specs' snippets in one round trip; the raw text of each, by key. `run` is where the script
 * runs (default: a command of its own; the run lock's holder runs it once it holds the lock).
 */
export async function gatherRaw(t: Transport, specs: readonly FactSpec<unknown>[], run?: FactsRunner): Promise<Map<string, string>> {
  const unique = [...new Map(specs.map((s) => [s.key, s])).values()];
  const script = factsScript(unique);
  const r = run ? await run(script, FACTS_LIMIT) : await t.script(script, [], FACTS_LIMIT);
  if (!r.stdout.includes(END)) throw new Error(`the fact-gathering script did not finish (exit ${r.code})`);
  const sections = splitSections(r.stdout);
  sections.delete('end');
  return sections;
}
