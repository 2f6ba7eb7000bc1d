/** install-glance's exit codes: 0 ok/converged, 1 failed, 2 plan has changes, 64 usage error. */
export const EXIT = { ok: 0, failed: 1, changes: 2, usage: 64 } as const;
