// A transport whose TCP tunnels reach the double (port 35357 its admin listener, anything else its public
// one), as the SSH connection's forwards reach a controller's Keystone; every other call is refused.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Transport } from '../../../src/transport/ssh.ts';
import type { KeystoneDouble } from './server.ts';

export function tunnelsTo(d: KeystoneDouble): Transport {
  const no = () => Promise.reject(new Error('not in this fake'));
  return {
    host: 'controller', user: 'root', stats: { roundTrips: 0, commands: 0 }, exec: no, execStream: no, script: no, writeFileAtomic: no, openUnixSocket: no, close() {},
    openTcp: (_host: string, port: number): Promise<Duplex> => new Promise((resolve, reject) => {
      const s = net.connect(port === 35357 ? d.adminPort : d.mainPort, '127.0.0.1');
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    }),
  };
}
