// Host-key policy as OpenSSH has it: a known key is trusted, an unknown one is refused unless the user
// said to trust it on first use (then recorded), a changed one is always refused.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface HostKeyPolicy {
  /** Default: ~/.ssh/known_hosts */
  knownHostsFile?: string;
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

export function knownHostsPath(policy: HostKeyPolicy): string {
  return policy.knownHostsFile ?? path.join(process.env.HOME ?? '/root', '.ssh', 'known_hosts');
}

export function checkHostKey(policy: HostKeyPolicy, host: string, port: number, blob: Buffer): Verdict {
  const file = knownHostsPath(policy);
  const names = hostPatterns(host, port);
  const type = keyType(blob);
  const offered = blob.toString('base64');
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    /* no file yet: every key is unknown */
  }
  let sameType = false;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3 || f[0]!.startsWith('#') || f[0]!.startsWith('@')) continue;
    if (!f[0] || !matches(f[0], names)) continue;
    if (f[1] === type && f[2] === offered) return { ok: true };
    if (f[1] === type) sameType = true;
  }
  const fp = fingerprint(blob);
  const where = names[0]!;
  if (sameType) {
    return {
      ok: false,
      problem: `the ${type} host key of ${where} has CHANGED (now ${fp}); this could be an attack, or the host was rebuilt`,
      hint: `if you know why it changed, remove the old key with: ssh-keygen -R '${where}' -f ${file}`,
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
