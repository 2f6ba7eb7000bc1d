// Host-key policy as OpenSSH has it: a known key is trusted, an unknown one is refused unless the user
// said to trust it on first use (then recorded), a changed one is always refused.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface HostKeyPolicy {
  /** Default: ~/.ssh/known_hosts. Several (ssh_config's UserKnownHostsFile): a key in any is known; a new one goes to the first. */
  knownHostsFile?: string | string[];
  acceptNewHostKey?: boolean;
}

export type Verdict = { ok: true } | { ok: false; problem: string; hint: string };

function keyType(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString();
}

export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

function hostPatterns(host: string, port: number): string[] {
  return port === 22 ? [host] : [`[${host}]:${port}`];
}

function matches(field: string, names: string[]): boolean {
  return field.split(',').some((pat) => {
    if (pat.startsWith('|1|')) {
      const [, , salt, hash] = pat.split('|');
      if (!salt || !hash) return false;
      return names.some((n) => crypto.createHmac('sha1', Buffer.from(salt, 'base64')).update(n).digest('base64') === hash);
    }
    return names.includes(pat);
  });
}

export function knownHostsPaths(policy: HostKeyPolicy): string[] {
  const f = policy.knownHostsFile ?? path.join(process.env.HOME ?? '/root', '.ssh', 'known_hosts');
  return Array.isArray(f) ? f : [f];
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return ''; // no file yet: every key is unknown
  }
}

export function checkHostKey(policy: HostKeyPolicy, host: string, port: number, blob: Buffer): Verdict {
  const files = knownHostsPaths(policy);
  const file = files[0]!;
  const names = hostPatterns(host, port);
  const type = keyType(blob);
  const offered = blob.toString('base64');
  let sameType: string | undefined;
  for (const f of files) {
    for (const line of readOrEmpty(f).split('\n')) {
      const w = line.trim().split(/\s+/);
      if (w.length < 3 || w[0]!.startsWith('#') || w[0]!.startsWith('@')) continue;
      if (!w[0] || !matches(w[0], names)) continue;
      if (w[1] === type && w[2] === offered) return { ok: true };
      if (w[1] === type) sameType ??= f;
    }
  }
  const text = readOrEmpty(file);
  const fp = fingerprint(blob);
  const where = names[0]!;
  if (sameType) {
    return {
      ok: false,
      problem: `the ${type} host key of ${where} has CHANGED (now ${fp}); this could be an attack, or the host was rebuilt`,
      hint: `if you know why it changed, remove the old key with: ssh-keygen -R '${where}' -f ${sameType}`,
    };
  }
  if (policy.acceptNewHostKey) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // A file whose last line has no newline would otherwise get the new entry glued onto that line.
    const sep = text && !text.endsWith('\n') ? '\n' : '';
    fs.appendFileSync(file, `${sep}${where} ${type} ${offered}\n`, { mode: 0o644 });
    return { ok: true };
  }
  return {
    ok: false,
    problem: `the host key of ${where} is not known (${type} ${fp})`,
    hint: `check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_${type.replace('ssh-', '')}_key.pub), then run again with --accept-new-host-key to record it in ${file}`,
  };
}
