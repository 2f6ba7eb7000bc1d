// Starting, stopping and restarting a service the way its init system wants, then waiting until it
// really answers: an init script returning 0 proves nothing. When it does not answer, its log says why.
import { EngineError } from '../engine/errors.ts';
import type { Host } from '../engine/host.ts';
import type { HandlerDef } from '../engine/playbook.ts';

export interface ServiceSpec {
  name: string;
  /** Where the init script leaves the pid, to tell running from not. */
  pidfiles: readonly string[];
  log?: string;
  /** The TCP port it listens on, freed before a restart starts it again. */
  port?: number;
  /** Ready means more than started (e.g. an authenticated API call works); polled by the caller's own code. */
  ready?: (host: Host) => Promise<void>;
}

// Output goes to a file, not our pipe: a daemon that inherits the channel's stdout keeps it open forever.
// Without systemd a restart is stop, wait until the port is free, start: an init script's restart can
// start the new daemon while the old one (uwsgi on bullseye, slow to exit under load) still holds the
// port, and the new one then dies with "another instance … on the same address".
// Arguments: INIT NAME VERB PORT (PORT in hex, as /proc/net/tcp has it; empty when the service has none).
const CONTROL = [
  'out=$(mktemp)',
  'busy() { [ -n "$4" ] && cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$4" \'$2 ~ p"$" && $4 == "0A" { f=1 } END { exit !f }\'; }',
  'if [ "$1" = systemd ]; then systemctl "$3" "$2" </dev/null >"$out" 2>&1',
  'elif [ "$3" = restart ]; then',
  '  service "$2" stop </dev/null >"$out" 2>&1',
  '  i=0; while busy "$@" && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
  '  service "$2" start </dev/null >>"$out" 2>&1',
  'else service "$2" "$3" </dev/null >"$out" 2>&1; fi',
  'rc=$?; cat "$out"; rm -f "$out"; exit $rc',
].join('\n');

export async function controlService(host: Host, svc: ServiceSpec, verb: 'start' | 'stop' | 'restart'): Promise<void> {
  const t0 = Date.now();
  host.progress(`${verb} ${svc.name} …`);
  const hexPort = svc.port ? svc.port.toString(16).toUpperCase().padStart(4, '0') : '';
  const r = await host.t.exec(['sh', '-c', CONTROL, 'control', host.os.init, svc.name, verb, hexPort]);
  if (r.code !== 0) {
    throw new EngineError(`service ${svc.name}`, `${verb} ${svc.name} failed (exit ${r.code}): ${r.stdout.trim().split('\n').slice(-3).join(' ')}\n${await lastLog(host, svc.log)}`, `see the service's log on the controller`);
  }
  if (verb !== 'stop' && svc.ready) await svc.ready(host);
  host.progress(`${verb} ${svc.name} done (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

/** The last lines of a service's log, headed by its path; empty when there is none. */
export async function lastLog(host: Host, log: string | undefined, lines = 8): Promise<string> {
  if (!log) return '';
  const r = await host.t.exec(['tail', '-n', String(lines), log]);
  return r.code === 0 && r.stdout.trim() ? `last lines of ${log}:\n${r.stdout.trimEnd()}` : '';
}

/** A handler that restarts a service and waits until it is ready. */
export function restartService(svc: ServiceSpec): HandlerDef {
  return { name: `restart-${svc.name}`, run: (host) => controlService(host, svc, 'restart') };
}
