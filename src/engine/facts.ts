// Everything the plan needs from the controller's shell, in one round trip: one script prints
// sections, and a pure parser turns them into typed facts.
import type { Transport } from '../transport/ssh.ts';
import type { Profile } from '../profiles/profiles.ts';
import { profiles } from '../profiles/profiles.ts';

export const JOURNAL = '/var/lib/install-glance/pending';

export interface FileFact {
  owner: string;
  mode: number;
  content: string;
}

export interface Facts {
  codename: string;
  osName: string;
  init: 'systemd' | 'sysvinit' | 'upstart';
  /** Installed packages and their versions (absent when not installed). */
  packages: Record<string, string>;
  files: Record<string, FileFact | undefined>;
  adminOpenrc?: string;
  /** Handlers a run wrote down and did not finish. */
  pending: string[];
  /** Pid of each service when running. */
  running: Record<string, number | undefined>;
  /** Each revision in the schema's versions dir and what it builds on (down_revision and depends_on). */
  schemaFiles: { revision: string; down: string[] }[];
  hasUser: Record<string, boolean>;
}

const allConfigPaths = (): string[] => [...new Set(Object.values(profiles).flatMap((p) => p.configs.map((c) => c.path)))];
const allPackages = (): string[] => [...new Set(Object.values(profiles).flatMap((p) => p.packages))];

/** The script is the same whatever the release: the release is one of the things it finds out. */
export function factsScript(): string {
  const pidfiles = new Map<string, Set<string>>();
  for (const s of Object.values(profiles).flatMap((p) => p.services)) {
    pidfiles.set(s.name, new Set([...(pidfiles.get(s.name) ?? []), ...s.pidfiles]));
  }
  const schemaDirs = [...new Set(Object.values(profiles).map((p) => p.schema.versionsDir))];
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    'exec 2>/dev/null',
    'echo "==> os"; cat /etc/os-release',
    'echo "==> init"; if [ -d /run/systemd/system ]; then echo systemd; elif [ -x /sbin/initctl ] && /sbin/initctl version 2>/dev/null | grep -q upstart; then echo upstart; else echo sysvinit; fi',
    `echo "==> packages"; dpkg-query -W -f='\${Package}\\t\${Version}\\t\${db:Status-Abbrev}\\n' ${allPackages().map(q).join(' ')}`,
    ...allConfigPaths().map((p) => `echo "==> file ${p}"; if [ -f ${q(p)} ]; then stat -c '%U:%G %a' ${q(p)}; base64 -w0 ${q(p)}; echo; fi`),
    'echo "==> openrc"; cat "$HOME/openstack/admin-openrc.sh"',
    `echo "==> pending"; cat ${JOURNAL}`,
    ...[...pidfiles].filter(([, files]) => files.size).map(([name, files]) => `echo "==> running ${name}"; for f in ${[...files].map(q).join(' ')}; do p=$(cat "$f") && kill -0 "$p" && { echo "$p"; break; }; done`),
    ...schemaDirs.map((d) => `echo "==> schema ${d}"; grep -hE '^(revision|down_revision|depends_on) *=' ${q(d)}/*.py`),
    'echo "==> users"; for u in glance; do getent passwd "$u" >/dev/null && echo "$u"; done',
    'echo "==> end"',
  ].join('\n');
}

export function parseFacts(out: string, profileHint?: Profile): Facts {
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
  const os = Object.fromEntries(
    (sections.get('os') ?? '').split('\n').map((l) => /^([A-Z_]+)=(.*)$/.exec(l)).filter((m): m is RegExpExecArray => !!m).map((m) => [m[1], m[2]!.replace(/^"|"$/g, '')]),
  ) as Record<string, string>;
  const packages: Record<string, string> = {};
  for (const line of (sections.get('packages') ?? '').split('\n')) {
    const [name, version, status] = line.split('\t');
    if (name && version && status?.startsWith('ii')) packages[name] = version;
  }
  const files: Record<string, FileFact | undefined> = {};
  const running: Record<string, number | undefined> = {};
  const schemaFiles: Facts['schemaFiles'] = [];
  for (const [k, v] of sections) {
    if (k.startsWith('file ')) {
      const [meta, b64] = v.split('\n');
      const m = /^(\S+) ([0-7]+)$/.exec(meta ?? '');
      files[k.slice(5)] = m ? { owner: m[1]!, mode: parseInt(m[2]!, 8), content: Buffer.from(b64 ?? '', 'base64').toString() } : undefined;
    } else if (k.startsWith('running ')) {
      const pid = Number(v.trim());
      running[k.slice(8)] = pid > 0 ? pid : undefined;
    } else if (k.startsWith('schema ') && (!profileHint || k.slice(7) === profileHint.schema.versionsDir)) {
      schemaFiles.push(...parseRevisions(v));
    }
  }
  const init = (sections.get('init') ?? '').trim();
  return {
    // Debian: VERSION="12 (bookworm)"; Ubuntu 14.04 has no codename field, only VERSION="14.04.5 LTS, Trusty Tahr".
    codename: os.VERSION_CODENAME ?? (/\((\w+)\)|, (\w+)/.exec(os.VERSION ?? '')?.slice(1).find(Boolean) ?? '').toLowerCase(),
    osName: os.PRETTY_NAME ?? 'unknown',
    init: init === 'systemd' || init === 'upstart' ? init : 'sysvinit',
    packages,
    files,
    adminOpenrc: sections.get('openrc')?.trim() || undefined,
    pending: (sections.get('pending') ?? '').split('\n').map((s) => s.trim()).filter(Boolean),
    running,
    schemaFiles,
    hasUser: Object.fromEntries((sections.get('users') ?? '').split('\n').filter(Boolean).map((u) => [u.trim(), true])),
  };
}

/** `revision = 'x'` then `down_revision` / `depends_on` (a name, a tuple or None) lines, per file in order. */
export function parseRevisions(text: string): Facts['schemaFiles'] {
  const out: Facts['schemaFiles'] = [];
  for (const line of text.split('\n')) {
    const m = /^(revision|down_revision|depends_on) *= *(.*)$/.exec(line.trim());
    if (!m) continue;
    const ids = [...m[2]!.matchAll(/['"]([^'"]+)['"]/g)].map((x) => x[1]!);
    if (m[1] === 'revision') out.push({ revision: ids[0] ?? '', down: [] });
    else if (out.length) out[out.length - 1]!.down.push(...ids);
  }
  return out.filter((r) => r.revision);
}

/** Schema heads: revisions nothing else builds on or depends on (alembic keeps only those in its table). */
export function schemaHeads(files: Facts['schemaFiles']): string[] {
  const downs = new Set(files.flatMap((f) => f.down));
  return files.map((f) => f.revision).filter((r) => !downs.has(r)).sort();
}

export async function gatherFacts(t: Transport, profileHint?: Profile): Promise<Facts> {
  const r = await t.script(factsScript());
  if (!r.stdout.includes('==> end')) throw new Error(`the fact-gathering script did not finish (exit ${r.code})`);
  return parseFacts(r.stdout, profileHint);
}
