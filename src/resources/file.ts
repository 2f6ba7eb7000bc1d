// A file whose whole content the playbook owns (a CA certificate a service must trust, a small key file):
// created or rewritten atomically with its owner and mode, removed when the playbook wants it absent, and
// its handlers notified when it changed. The plan never shows the content: its size and a short sha256
// for plain text, nothing at all for a SecretText, so a key file can be managed as safely as a CA.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { Change, Diff, Ensure, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { defineFact, shq } from '../engine/facts.ts';
import { EngineError } from '../engine/errors.ts';
import type { SecretText } from '../secret.ts';

export interface FileFact {
  owner: string;
  mode: number;
  content: string;
}

/**
 * A file's owner, mode and content, or undefined when absent. The content travels in base64 (any byte
 * survives), gzipped first where gzip is (Essential on Debian and Ubuntu): a packaged glance-api.conf is
 * 205 KB of mostly comments, 87 KB so instead of 273 KB, read on every run.
 */
export function fileFact(path: string) {
  const p = shq(path);
  const script = `if [ -f ${p} ]; then stat -c '%U:%G %a' ${p}; if command -v gzip >/dev/null; then echo gzip; gzip -c -1 ${p} | base64 -w0; else echo plain; base64 -w0 ${p}; fi; echo; fi`;
  return defineFact(`file ${path}`, script, (raw): FileFact | undefined => {
    const [meta, encoding, b64] = raw.split('\n');
    const m = /^(\S+) ([0-7]+)$/.exec(meta ?? '');
    if (!m) return undefined;
    const bytes = Buffer.from(b64 ?? '', 'base64');
    return { owner: m[1]!, mode: parseInt(m[2]!, 8), content: (encoding === 'gzip' ? zlib.gunzipSync(bytes) : bytes).toString() };
  });
}

export interface FileSpec {
  /** Absolute; its directory must exist when the file is written (order the resource after what makes it). */
  path: string;
  content: string | SecretText;
  /** user:group */
  owner: string;
  mode: number;
  ensure?: Ensure;
  notifies?: readonly string[];
  /** What the content is, for the plan ("the CA that signed Keystone's certificate"). */
  describe?: string;
}

export interface FileState {
  file?: FileFact;
}

export type FileOp =
  | { op: 'write'; path: string; content: string | SecretText; owner: string; mode: number }
  | { op: 'remove'; path: string };

const octal = (m: number) => m.toString(8).padStart(4, '0');

/** "1224 bytes, sha256 3f2a…" for plain text; a secret's content is never summarised. */
function summary(content: string | SecretText): string {
  if (typeof content !== 'string') return '(secret content)';
  return `${Buffer.byteLength(content)} bytes, sha256 ${crypto.createHash('sha256').update(content).digest('hex').slice(0, 12)}…`;
}

const same = (want: string | SecretText, have: string) => (typeof want === 'string' ? want === have : want.matches(have));

export function fileDiff(s: FileState, desired: Omit<FileSpec, 'notifies'>): Diff<FileOp> {
  const { path, owner, mode, content } = desired;
  if (desired.ensure === 'absent') {
    if (!s.file) return noChange(`${path} does not exist`);
    return { action: 'delete', changes: [{ field: 'file', from: path, to: '(removed)' }], why: `${path} exists`, ops: [{ op: 'remove', path }] };
  }
  const write: FileOp = { op: 'write', path, content, owner, mode };
  const what = desired.describe ? ` (${desired.describe})` : '';
  if (!s.file) {
    return { action: 'create', changes: [{ field: 'file', to: `${path}${what}, ${summary(content)}, owner ${owner}, mode ${octal(mode)}` }], why: `${path} does not exist`, ops: [write] };
  }
  const changes: Change[] = [];
  // What is there now holds a secret too when what we write does (the old password): summarised alike.
  if (!same(content, s.file.content)) changes.push({ field: 'content', from: typeof content === 'string' ? summary(s.file.content) : summary(content), to: summary(content) });
  if (s.file.owner !== owner) changes.push({ field: 'owner', from: s.file.owner, to: owner });
  if (s.file.mode !== mode) changes.push({ field: 'mode', from: octal(s.file.mode), to: octal(mode) });
  if (!changes.length) return noChange(`${path}${what} has its content, owner ${owner}, mode ${octal(mode)}`);
  return { action: 'update', changes, why: `${changes.map((c) => c.field).join(', ')} differ`, ops: [write] };
}

export function file(spec: FileSpec): Resource<FileState, FileOp> {
  if (!spec.path.startsWith('/')) throw new Error(`a file resource needs an absolute path, not "${spec.path}"`);
  const fact = fileFact(spec.path);
  return {
    kind: 'file',
    id: spec.path,
    notifies: spec.notifies,
    async read(host) {
      return { file: await host.fact(fact) };
    },
    diff: (current) => fileDiff(current, spec),
    async apply(host, ops) {
      for (const o of ops) {
        if (o.op === 'write') {
          await host.t.writeFileAtomic(o.path, o.content, o.owner, o.mode);
          continue;
        }
        const r = await host.t.exec(['rm', '-f', '--', o.path]);
        if (r.code !== 0) throw new EngineError('file', `cannot remove ${o.path}: ${r.stderr.trim()}`, 'check the file system on the controller');
      }
    },
  };
}
