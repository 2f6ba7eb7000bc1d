// Host reports as the engine makes them, for the rendering, JSON and schema tests: a plan with every
// action, an apply that failed half-way (changed, failed, skipped, a handler, an error), a host that
// could not be reached.
import type { HostReport, ResourceResult } from '../../src/engine/report-model.ts';

export const res = (r: Partial<ResourceResult> & Pick<ResourceResult, 'kind' | 'id' | 'action' | 'status' | 'why'>): ResourceResult => ({ changes: [], ms: 0, ...r });
export const stats = { sshRoundTrips: 14, remoteCommands: 1, keystoneRequests: 8 };
export const head = { host: 'controller', address: '10.213.1.2', playbook: 'glance', os: 'Debian GNU/Linux 12 (bookworm)', release: 'bookworm', notes: [] as string[] };

export const plan: HostReport = {
  ...head, mode: 'plan', ok: 1, changed: 5, failed: 0, durationMs: 812, stats,
  resources: [
    res({ kind: 'mysql-database', id: 'glance', action: 'none', status: 'ok', why: 'database glance exists' }),
    res({ kind: 'mysql-user', id: 'glance@%', action: 'create', status: 'pending', why: "mysql user glance@'%' does not exist",
      changes: [{ field: 'account', to: "glance@'%'" }, { field: 'password', to: '***' }] }),
    res({ kind: 'ini-file', id: '/etc/glance/glance-api.conf', action: 'update', status: 'pending', why: 'content differ',
      changes: [
        { field: '[database] connection', section: 'database', key: 'connection', to: 'mysql+pymysql://glance:***@controller/glance' },
        { field: '[keystone_authtoken] region_name', section: 'keystone_authtoken', key: 'region_name', from: 'regionOne', to: 'RegionOne' },
      ],
      detail: ['[database]', '+connection = mysql+pymysql://glance:***@controller/glance', '[keystone_authtoken]', '-region_name = regionOne', '+region_name = RegionOne'] }),
    res({ kind: 'db-schema', id: 'glance', action: 'update', status: 'pending', why: 'the database has no schema yet',
      changes: [{ field: 'schema', from: '', to: 'wallaby_contract01' }] }),
    res({ kind: 'keystone-endpoint', id: 'image public/internal/admin', action: 'replace', status: 'pending', why: 'endpoints differ',
      changes: [{ field: 'public', from: 'http://localhost:9292', to: 'http://controller:9292 (RegionOne)' }] }),
    res({ kind: 'keystone-service', id: 'glance (image)', action: 'delete', status: 'pending', why: 'a duplicate',
      changes: [{ field: 'duplicate', from: 's2', to: '(deleted with its endpoints)' }] }),
  ],
  handlers: [{ name: 'restart-glance-api', status: 'pending', reason: 'ini-file /etc/glance/glance-api.conf changed' }],
};

export const apply: HostReport = {
  ...head, mode: 'apply', ok: 1, changed: 1, failed: 1, durationMs: 46_449, stats,
  resources: [
    res({ kind: 'mysql-database', id: 'glance', action: 'none', status: 'ok', why: 'database glance exists' }),
    res({ kind: 'ini-file', id: '/etc/glance/glance-api.conf', action: 'update', status: 'changed', why: 'content differ', ms: 40,
      changes: [{ field: '[database] connection', section: 'database', key: 'connection', to: 'mysql+pymysql://glance:***@controller/glance' }],
      detail: ['[database]', '+connection = mysql+pymysql://glance:***@controller/glance'], planned: { action: 'update', changes: [] }, after: { action: 'none', why: 'every managed key is set' } }),
    res({ kind: 'db-schema', id: 'glance', action: 'update', status: 'failed', why: 'the database has no schema yet',
      error: 'glance-manage db_sync failed (exit 1)', changes: [{ field: 'schema', from: '(empty)', to: 'wallaby_contract01' }] }),
    res({ kind: 'service', id: 'glance-api', action: 'update', status: 'skipped', why: 'glance-api is not running',
      changes: [{ field: 'running', from: 'no', to: 'yes' }], detail: ['never shown for a skipped resource'] }),
  ],
  handlers: [{ name: 'restart-glance-api', status: 'changed', reason: 'ini-file /etc/glance/glance-api.conf changed', ms: 3100 }],
  error: {
    step: 'db-schema',
    message: "glance-manage db_sync failed (exit 1):\nsqlalchemy.exc.OperationalError: (1045, \"Access denied for user 'glance'@'localhost'\")",
    hint: 'check [database] connection in /etc/glance/glance-api.conf and that MariaDB is up',
  },
};

export const unreachable: HostReport = {
  host: 'net-b', address: '10.213.9.2', playbook: 'glance', notes: [], mode: 'apply', ok: 0, changed: 0, failed: 1, durationMs: 3000, stats: { sshRoundTrips: 0, remoteCommands: 0 },
  resources: [], handlers: [], unreachable: true,
  error: { step: 'connect', message: 'cannot reach 10.213.9.2 (ECONNREFUSED)', hint: 'check the address and the port (--port), and that sshd runs there' },
};

