// Where install-glance keeps its own state on a target: the pending-handler journal, the run lock, and
// the backups a rollback restores live here.
export const TARGET_STATE_DIR = '/var/lib/install-glance';
export const JOURNAL = `${TARGET_STATE_DIR}/pending`;
/** Held (flock) by the run that changes the target; released when that run's SSH connection ends. */
export const RUN_LOCK = `${TARGET_STATE_DIR}/run.lock`;
/** A file's previous content before a write of ours, under its own path: BACKUPS/etc/glance/glance-api.conf. */
export const BACKUPS = `${TARGET_STATE_DIR}/backup`;
/** How long a run waits for another run's lock before it gives up. */
export const RUN_LOCK_WAIT_MS = 10 * 60_000;
