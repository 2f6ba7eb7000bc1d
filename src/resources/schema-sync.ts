// Running a service's own schema sync command (`glance-manage db_sync`) as its user, for the schema
// resources of either tool (alembic, sqlalchemy-migrate): once more after a first failure, then the
// error with what the command said, tracebacks trimmed to their last lines.
import { EngineError } from '../engine/errors.ts';
import type { Host } from '../engine/host.ts';

export interface SyncCommand {
  /** e.g. `glance-manage db_sync`, run by `su -s /bin/sh -c COMMAND USER`. */
  command: string;
  user: string;
}

export async function runSync(host: Host, sync: SyncCommand, step: string, hint: string): Promise<void> {
  host.progress(`${sync.command} …`);
  const argv = ['su', '-s', '/bin/sh', '-c', sync.command, sync.user];
  let r = await host.t.exec(argv);
  // A first connection right after the database or its grants changed can fail once; a second try is cheap.
  if (r.code !== 0) r = await host.t.exec(argv);
  if (r.code !== 0) {
    const said = r.stderr.split('\n').filter((l) => l.trim() && !/Exception ignored|getcurrent|^\s+File |^Traceback/.test(l)).slice(-6).join('\n');
    throw new EngineError(step, `${sync.command} failed (exit ${r.code}):\n${said}`, hint);
  }
}
