// The database admin session a resource asks for: MariaDB's root over the server's unix socket
// (Debian's unix_socket authentication sees its peer, so no password), through the SSH connection. The
// target decides how root reaches the socket: as root's own SSH login, sshd's forward; with --become, a
// relay that sudo runs as root (src/transport/become.ts). Opened once per host, on first use or while
// the facts are gathered.
import type { Provider } from '../engine/providers.ts';
import { openAdminSession, SOCKET, type MysqlSession } from '../clients/mysql.ts';

export function mysqlAdmin(opts: { socket?: string } = {}): Provider<MysqlSession> {
  const socket = opts.socket ?? SOCKET;
  return {
    key: `mysql-admin ${socket}`,
    open: (host) => openAdminSession(host.t, { socket }),
    close: (s) => s.close(),
  };
}
