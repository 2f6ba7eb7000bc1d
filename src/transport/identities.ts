// Which keys to offer, in OpenSSH's order: the agent's keys that match a configured file (in the
// files' order), then the agent's other keys (not with IdentitiesOnly), then the files the agent does
// not hold. A file's public half is read without its passphrase (the .pub beside it, or the
// unencrypted header of an OpenSSH key), so a passphrase is asked only once the server has said it
// would accept that key, and only once per file in a run. No ssh2 here: its key parser is handed in.
import fs from 'node:fs';
import path from 'node:path';
import { askHidden, canAsk, oneAtATime } from './passphrase.ts';

/** The part of ssh2's ParsedKey used here. */
export interface KeyLike {
  type: string;
  getPublicSSH(): Buffer;
  isPrivateKey(): boolean;
  sign(data: Buffer, algo?: string): Buffer | Error;
}
export type ParseKey = (data: Buffer | string, passphrase?: string) => KeyLike | Error;

/** Something that went wrong with one identity; said in the final error when no key logs in. */
export interface Problem { message: string; hint?: string }

export type KeyFile =
  | { path: string; state: 'missing' }
  | { path: string; state: 'unreadable'; problem: Problem }
  | { path: string; state: 'ready'; key: KeyLike; blob: Buffer }
  /** Encrypted; blob is its public half when that could be read without the passphrase. */
  | { path: string; state: 'locked'; data: Buffer; blob?: Buffer }
  /** A public key only: usable when the agent holds its private half (as OpenSSH allows). */
  | { path: string; state: 'public'; blob: Buffer };

const DEFAULT_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export function defaultKeyFiles(home = process.env.HOME ?? '/root'): string[] {
  return DEFAULT_FILES.map((f) => path.join(home, '.ssh', f));
}

export function readKeyFile(file: string, parse: ParseKey): KeyFile {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { path: file, state: 'missing' };
    return { path: file, state: 'unreadable', problem: { message: `cannot read the key ${file}: ${(e as Error).message}` } };
  }
  const key = parse(data);
  if (!(key instanceof Error)) {
    return key.isPrivateKey() ? { path: file, state: 'ready', key, blob: key.getPublicSSH() } : { path: file, state: 'public', blob: key.getPublicSSH() };
  }
  if (/passphrase/i.test(key.message)) return { path: file, state: 'locked', data, blob: publicHalf(file, data, parse) };
  return { path: file, state: 'unreadable', problem: { message: `${file} is not a private key install-glance can read (${key.message})` } };
}

/** The public key of an encrypted file: FILE.pub, else the clear header of the openssh-key-v1 format. */
function publicHalf(file: string, data: Buffer, parse: ParseKey): Buffer | undefined {
  try {
    const pub = parse(fs.readFileSync(`${file}.pub`));
    if (!(pub instanceof Error)) return pub.getPublicSSH();
  } catch { /* no .pub */ }
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]+?)-----END OPENSSH PRIVATE KEY-----/.exec(data.toString('latin1'));
  if (!m) return undefined;
  const raw = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0');
  if (!raw.subarray(0, magic.length).equals(magic)) return undefined;
  let off = magic.length;
  const str = () => {
    const len = raw.readUInt32BE(off);
    const s = raw.subarray(off + 4, off + 4 + len);
    off += 4 + len;
    return s;
  };
  try {
    str(); str(); str(); // cipher, kdf, kdf options
    if (raw.readUInt32BE(off) !== 1) return undefined;
    off += 4;
    return Buffer.from(str());
  } catch {
    return undefined;
  }
}

export type Offer<A> = { from: 'agent'; key: A; blob: Buffer } | { from: 'file'; file: KeyFile & { state: 'ready' | 'locked' }; blob?: Buffer };

/** The order OpenSSH offers keys in (sshconnect2.c pubkey_prepare), agent keys given with their blobs. */
export function orderOffers<A>(agent: { key: A; blob: Buffer }[], files: KeyFile[], identitiesOnly: boolean): Offer<A>[] {
  const hex = (b: Buffer) => b.toString('hex');
  const used = new Set<string>();
  const offers: Offer<A>[] = [];
  const inAgent = new Map(agent.map((a) => [hex(a.blob), a]));
  for (const f of files) {
    if (!('blob' in f) || !f.blob) continue;
    const a = inAgent.get(hex(f.blob));
    if (a && !used.has(hex(a.blob))) {
      used.add(hex(a.blob));
      offers.push({ from: 'agent', key: a.key, blob: a.blob });
    }
  }
  if (!identitiesOnly) {
    for (const a of agent) {
      if (used.has(hex(a.blob))) continue;
      used.add(hex(a.blob));
      offers.push({ from: 'agent', key: a.key, blob: a.blob });
    }
  }
  for (const f of files) {
    if (f.state !== 'ready' && f.state !== 'locked') continue;
    if (f.blob && used.has(hex(f.blob))) continue;
    if (f.blob) used.add(hex(f.blob));
    offers.push({ from: 'file', file: f, blob: f.blob });
  }
  return offers;
}

/** Opened keys, by file: a passphrase is asked once per file in a run, whichever host needs it first. */
const unlocked = new Map<string, Promise<KeyLike>>();

export interface UnlockHooks {
  input?: NodeJS.ReadStream;
  output?: NodeJS.WritableStream;
}

const TRIES = 3;

/** The private key of a locked file, asking its passphrase on the terminal (up to three tries). */
export function unlock(file: KeyFile & { state: 'locked' }, parse: ParseKey, hooks: UnlockHooks = {}): Promise<KeyLike> {
  const id = fs.existsSync(file.path) ? fs.realpathSync(file.path) : file.path;
  let p = unlocked.get(id);
  if (!p) {
    p = oneAtATime(async () => {
      if (!canAsk(hooks.input)) {
        throw Object.assign(new Error(`the key ${file.path} is passphrase-protected and there is no terminal to ask for its passphrase`),
          { hint: `add it to your agent first (ssh-add ${file.path}), or run install-glance on a terminal` });
      }
      for (let i = 0; i < TRIES; i++) {
        const pass = await askHidden(`Enter passphrase for key '${file.path}': `, hooks.input, hooks.output);
        const key = parse(file.data, pass);
        if (!(key instanceof Error) && key.isPrivateKey()) return key;
        if (i + 1 < TRIES) (hooks.output ?? process.stderr).write('Wrong passphrase, try again.\n');
      }
      throw Object.assign(new Error(`wrong passphrase for ${file.path} (${TRIES} tries)`), { hint: `check it with: ssh-keygen -y -f ${file.path}` });
    });
    unlocked.set(id, p);
  }
  return p;
}
