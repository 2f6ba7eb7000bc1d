// Where install-glance keeps its own state on a target: the pending-handler journal lives here.
export const TARGET_STATE_DIR = '/var/lib/install-glance';
export const JOURNAL = `${TARGET_STATE_DIR}/pending`;
