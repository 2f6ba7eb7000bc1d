// For the transport's unit tests: a local SSH server (ssh2's Server) that takes the keys a test
// names, records every key offered in order, runs any command as a no-op, and forwards TCP
// (as a jump host does); real key files made by ssh-keygen; a real ssh-agent.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import ssh2 from 'ssh2';
import { generateKeyPair } from '../../src/transport/keys.ts';

export interface Offer { method: string; key?: string; signed: boolean }

export interface FakeServer {
  port: number;
  hostKeyLine: string;
  /** Keys offered, in order, across connections. */
  offers: Offer[];
  /** Logins that succeeded, and connections that are open. */
  logins: number;
  open: number;
  /** Where forwarded TCP connections went (host:port). */
  forwards: string[];
  close(): Promise<void>;
}

/** A server that accepts the public keys in `accept` (OpenSSH one-line format). */
export async function fakeSshServer(accept: string[]): Promise<FakeServer> {
  const hostKey = generateKeyPair('fake-host');
  const allowed = accept.map((a) => ssh2.utils.parseKey(a) as ssh2.ParsedKey);
  const clients = new Set<ssh2.Connection>();
  const state: FakeServer = { port: 0, hostKeyLine: hostKey.public.split(' ').slice(0, 2).join(' '), offers: [], logins: 0, open: 0, forwards: [], close: async () => {} };
  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    state.open++;
    clients.add(client);
    client.on('close', () => {
      state.open--;
      clients.delete(client);
    });
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const blob = ctx.key.data;
      state.offers.push({ method: ctx.method, key: blob.toString('base64'), signed: !!ctx.signature });
      const match = allowed.find((k) => k.getPublicSSH().equals(blob));
      if (!match) return ctx.reject(['publickey']);
      if (!ctx.signature) return ctx.accept(); // the query: "would you take this key?"
      if (match.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)) return ctx.accept();
      ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      state.logins++;
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('pty', (ok) => ok?.());
        session.on('exec', (ok, _reject, info) => {
          const ch = ok();
          // One character whose two UTF-8 bytes travel in two packets, as a long output's may.
          if (info.command === 'split-utf8') {
            ch.write(Buffer.from([0xc3]));
            setTimeout(() => {
              ch.write(Buffer.from([0xa9, 0x0a]));
              ch.exit(0);
              ch.end();
            }, 20);
            return;
          }
          ch.exit(0);
          ch.end();
        });
      });
      client.on('tcpip', (acceptTcp, reject, info) => {
        state.forwards.push(`${info.destIP}:${info.destPort}`);
        const out = net.connect(info.destPort, info.destIP);
        out.once('connect', () => {
          const ch = acceptTcp();
          ch.pipe(out).pipe(ch);
          ch.on('close', () => out.destroy());
          out.on('close', () => ch.close());
        });
        out.once('error', () => reject());
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as net.AddressInfo).port;
  state.close = () => new Promise((r) => {
    for (const c of clients) c.end();
    server.close(() => r());
  });
  return state;
}

/** A key pair made by ssh-keygen, optionally with a passphrase; returns the private key's path. */
export function makeKey(dir: string, name: string, passphrase = ''): { path: string; pub: string } {
  const file = path.join(dir, name);
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  return { path: file, pub: fs.readFileSync(`${file}.pub`, 'utf8').trim() };
}

/** A real ssh-agent on its own socket; `add` loads a key into it. */
export async function startAgent(dir: string): Promise<{ socket: string; add(key: string, passphrase?: string): void; stop(): void }> {
  const socket = path.join(dir, 'agent.sock');
  const proc: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
  if (!fs.existsSync(socket)) throw new Error('ssh-agent did not start');
  return {
    socket,
    add(key, passphrase) {
      // ssh-add reads a passphrase only from a terminal or SSH_ASKPASS: a script that prints it.
      const askpass = path.join(dir, 'askpass');
      fs.writeFileSync(askpass, `#!/bin/sh\necho '${passphrase ?? ''}'\n`, { mode: 0o700 });
      const r = spawnSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: socket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' }, stdio: ['ignore', 'pipe', 'pipe'] });
      if (r.status !== 0) throw new Error(`ssh-add: ${r.stderr}`);
    },
    stop: () => proc.kill(),
  };
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The base64 blob of an OpenSSH public key line, as the server records offers. */
export const blobOf = (pub: string) => pub.split(' ')[1]!;
