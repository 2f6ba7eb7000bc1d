// Starting, stopping and restarting a service the way its init system wants, then waiting until it
// really answers: an init script returning 0 proves nothing. A daemon that dies while starting is seen
// dying (its pid gone) instead of waited for, and the error carries the lines that say why (see
// service-diagnosis.ts), not the last lines of its log, which are deprecation warnings as often as not.
import { EngineError } from '../engine/errors.ts';
import type { Host } from '../engine/host.ts';
import type { HandlerDef } from '../engine/playbook.ts';
import { whyItStopped, type Diagnosable } from './service-diagnosis.ts';

export { lastLog } from './service-diagnosis.ts';

export interface ServiceSpec extends Diagnosable {
  name: string;
  /** Where the init script leaves the pid, to tell running from not. */
  pidfiles: readonly string[];
  log?: string;
  /** The TCP port it listens on, freed before a restart starts it again. */
  port?: number;
  /** Ready means more than started (e.g. an authenticated API call works); polled by the caller's own code. */
  ready?: (host: Host) => Promise<void>;
}

/** How long a started daemon gets to listen on its port (bullseye's uwsgi glance-api takes ~30 s). */
const START_WAIT_SEC = 90;

// Output goes to a file, not our pipe: a daemon that inherits the channel's stdout keeps it open forever.
// Without systemd a restart is stop, wait until the port is free, start: an init script's restart can
// start the new daemon while the old one (uwsgi on bullseye, slow to exit under load) still holds the
// port, and the new one then dies with "another instance … on the same address".
// After a start, wait until the daemon listens (up), or its pid is gone (died), or START_WAIT_SEC (slow).
// Arguments: INIT NAME VERB PORT LOG WAIT PIDFILE… (PORT in hex, as /proc/net/tcp has it; PORT and LOG empty
// when the service has none). Lines "@@ …" on stdout are for the caller; the rest is what the init system said.
const CONTROL = [
  'init=$1 name=$2 verb=$3 port=$4 log=$5 wait=$6; shift 6',
  'out=$(mktemp)',
  'busy() { [ -n "$port" ] && cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$port" \'$2 ~ p"$" && $4 == "0A" { f=1 } END { exit !f }\'; }',
  'pid() {',
  '  if [ "$init" = systemd ]; then p=$(systemctl show -p MainPID --value "$name" 2>/dev/null); [ "${p:-0}" != 0 ] && echo "$p"; return 0; fi',
  '  for f in "$@"; do p=$(cat "$f" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && { echo "$p"; return 0; }; done',
  '}',
  '[ -n "$log" ] && [ -f "$log" ] && echo "@@ log-offset $(stat -c %s "$log")"',
  'echo "@@ started-at $(date +%s)"',
  'if [ "$init" = systemd ]; then systemctl "$verb" "$name" </dev/null >"$out" 2>&1',
  'elif [ "$verb" = restart ]; then',
  '  service "$name" stop </dev/null >"$out" 2>&1',
  '  i=0; while busy && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
  '  service "$name" start </dev/null >>"$out" 2>&1',
  'else service "$name" "$verb" </dev/null >"$out" 2>&1; fi',
  'rc=$?; cat "$out"; rm -f "$out"',
  '[ $rc -eq 0 ] || exit $rc',
  '[ "$verb" != stop ] && [ "$wait" -gt 0 ] || exit 0',
  // Nothing to watch it by (no pid file, no systemd): the init script\'s word is all there is.
  '[ $# -gt 0 ] || [ "$init" = systemd ] || exit 0',
  'i=0; seen=',
  'while [ $i -lt $((wait * 10)) ]; do',
  '  p=$(pid "$@")',
  '  if [ -n "$p" ]; then',
  '    seen=1',
  '    if busy || { [ -z "$port" ] && [ $i -ge 20 ]; }; then echo "@@ up $p $i"; exit 0; fi',
  // Gone after it was seen, or never seen in 3 s: it died while starting.
  '  elif [ -n "$seen" ] || [ $i -ge 30 ]; then echo "@@ died $i"; exit 3',
  '  fi',
  '  sleep 0.1; i=$((i+1))',
  'done',
  'echo "@@ slow $i"; exit 4',
].join('\n');

interface Controlled {
  code: number;
  said: string;
  logOffset?: number;
  startedAt?: number;
  /** Tenths of a second from the start to the verdict. */
  tenths?: number;
}

function parseControl(code: number, stdout: string): Controlled {
  const c: Controlled = { code, said: '' };
  const said: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^@@ (\S+)(?: (\S+))?(?: (\S+))?$/.exec(line);
    if (!m) {
      if (line.trim()) said.push(line.trim());
      continue;
    }
    if (m[1] === 'log-offset') c.logOffset = Number(m[2]);
    else if (m[1] === 'started-at') c.startedAt = Number(m[2]);
    else if (m[1] === 'died' || m[1] === 'slow') c.tenths = Number(m[2]);
    else if (m[1] === 'up') c.tenths = Number(m[3]);
  }
  c.said = said.slice(-3).join(' ');
  return c;
}

const HINT = 'fix what it says (the option and the file are named above), then run again: the restart stays pending until it succeeds';

export async function controlService(host: Host, svc: ServiceSpec, verb: 'start' | 'stop' | 'restart'): Promise<void> {
  const t0 = Date.now();
  host.progress(`${verb} ${svc.name} …`);
  const hexPort = svc.port ? svc.port.toString(16).toUpperCase().padStart(4, '0') : '';
  const r = await host.t.exec(['sh', '-c', CONTROL, 'control', host.os.init, svc.name, verb, hexPort, svc.log ?? '', String(START_WAIT_SEC), ...svc.pidfiles],
    { timeoutMs: (START_WAIT_SEC + 150) * 1000, what: `${verb} ${svc.name}` });
  const c = parseControl(r.code, r.stdout);
  if (r.code !== 0) {
    const died = r.code === 3;
    const what = died ? `${svc.name} stopped ${((c.tenths ?? 0) / 10).toFixed(1)} s after it was started`
      : r.code === 4 ? `${svc.name} runs but does not listen on port ${svc.port} after ${START_WAIT_SEC} s`
      : `${verb} ${svc.name} failed (exit ${r.code})${c.said ? `: ${c.said}` : ''}`;
    const why = await whyItStopped(host, svc, { logOffset: c.logOffset, startedAt: c.startedAt, died: died || r.code !== 4 });
    throw new EngineError(`service ${svc.name}`, `${what}\n${why || `nothing in what ${svc.name} left says why (no ERROR or CRITICAL line${svc.log ? ` in ${svc.log}` : ''})`}`, HINT);
  }
  if (verb !== 'stop' && svc.ready) {
    try {
      await svc.ready(host);
    } catch (e) {
      // Started but not ready: its own lines since the restart, when they say something.
      const why = await whyItStopped(host, svc, { logOffset: c.logOffset, startedAt: c.startedAt, died: false });
      if (why && e instanceof EngineError) throw new EngineError(e.step, `${e.message}\n${why}`, e.hint, e);
      throw e;
    }
  }
  host.progress(`${verb} ${svc.name} done (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

/** A handler that restarts a service and waits until it is ready. */
export function restartService(svc: ServiceSpec): HandlerDef {
  return { name: `restart-${svc.name}`, run: (host) => controlService(host, svc, 'restart') };
}
