// The database admin session a playbook asks for, whichever way reaches the server: MariaDB's socket
// through sshd's stream-local forward (root by unix_socket: Debian), or a TCP forward to 127.0.0.1 with a
// password (Ubuntu 14.04: OpenSSH 6.6 forwards no socket, MySQL 5.5 has no socket login). The release's
// profile says which to try first; when it fails the other is tried, and the run says which was used
// and why. One session per host whatever way it took: the key names no way, since the warm-up opens it
// before the release is known.
import type { Provider } from '../engine/providers.ts';
import type { Host } from '../engine/host.ts';
import { MysqlError, MysqlStalled, SOCKET, type MysqlSession } from '../clients/mysql.ts';
import { mysqlAdmin } from './mysql-admin.ts';
import { openTcpAdminSession, TCP_HOST } from './mysql-admin-tcp.ts';

export type AdminWay = 'socket' | 'tcp';

/** Did the socket attempt fail at sshd's channel (no stream-local forward), not at MariaDB's login? */
function channelRefused(e: unknown): boolean {
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
    if ((c as { step?: string }).step === 'tunnel') return true;
  }
  return false;
}

/**
 * Did the server take the connection and say nothing (mariadbd stopped or wedged)? Then the other way in
 * reaches the same silent server: not tried, so the run names MariaDB within its one wait (before
 * Keystone, which waits on the same server, times out and is blamed instead).
 */
function stalled(e: unknown): boolean {
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
    if (c instanceof MysqlStalled || (c as { code?: string }).code === 'ETIMEDOUT') return true;
  }
  return false;
}

const sshd = (host: Host) => `sshd on ${host.name}${host.t.serverSoftware ? ` (${host.t.serverSoftware})` : ''}`;

/** One line for the run: why the first way failed and what is used instead. */
export function fallbackNote(host: Host, first: AdminWay, firstError: unknown, tcpAddress = TCP_HOST): string {
  if (first === 'socket') {
    const why = channelRefused(firstError)
      ? `${sshd(host)} opens no channel to MariaDB's socket ${SOCKET} (stream-local forwarding came with OpenSSH 6.7; later ones refuse it with AllowStreamLocalForwarding no)`
      : `the socket login failed (${(firstError as Error).message})`;
    return `database admin: ${why}: using TCP ${tcpAddress} through the SSH connection instead`;
  }
  return `database admin: TCP failed (${(firstError as Error).message}): using MariaDB's socket instead`;
}

export function databaseAdmin(opts: { prefer: AdminWay; passwordFile?: string }): Provider<MysqlSession> {
  const socket = mysqlAdmin();
  const open: Record<AdminWay, (host: Host) => Promise<MysqlSession>> = {
    socket: (host) => socket.open(host),
    tcp: (host) => openTcpAdminSession(host, { passwordFile: opts.passwordFile }),
  };
  // Root's password given: the operator means TCP (a socket login needs no password).
  const first: AdminWay = opts.passwordFile ? 'tcp' : opts.prefer;
  const second: AdminWay = first === 'socket' ? 'tcp' : 'socket';
  return {
    key: `database-admin ${opts.passwordFile ?? ''}`.trimEnd(),
    async open(host) {
      let firstError: unknown;
      try {
        return await open[first](host);
      } catch (e) {
        if (stalled(e)) throw e;
        firstError = e;
      }
      try {
        const s = await open[second](host);
        host.progress(fallbackNote(host, first, firstError, s.local?.host));
        return s;
      } catch (secondError) {
        const [socketError, tcpError] = first === 'socket' ? [firstError, secondError] : [secondError, firstError];
        // The socket refused by sshd says nothing of MariaDB: the TCP attempt's hint is the one to follow.
        const hint = channelRefused(socketError) || first === 'tcp' ? (tcpError as { hint?: string }).hint : (socketError as { hint?: string }).hint;
        throw new MysqlError(
          `no way in to MariaDB as its admin on ${host.name}: over its socket, ${(socketError as Error).message}; over TCP, ${(tcpError as Error).message}`,
          hint ?? 'check that MariaDB runs on the controller', secondError,
        );
      }
    },
    close: (s) => s.close(),
  };
}
