// Starting and restarting a service the way its init system wants, then waiting until it really
// answers: an init script returning 0 proves nothing. When it does not answer, its log says why.
import type { HostContext } from './context.ts';
import { EngineError } from './errors.ts';
import { glanceClient } from '../clients/glance.ts';

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

export async function controlService(ctx: HostContext, name: string, verb: 'start' | 'restart'): Promise<void> {
  const t0 = Date.now();
  ctx.progress(`${verb} ${name} …`);
  const port = ctx.profile.services.find((s) => s.name === name)?.port;
  const hexPort = port ? port.toString(16).toUpperCase().padStart(4, '0') : '';
  const r = await ctx.t.exec(['sh', '-c', CONTROL, 'control', ctx.facts.init, name, verb, hexPort]);
  if (r.code !== 0) {
    throw new EngineError(`service ${name}`, `${verb} ${name} failed (exit ${r.code}): ${r.stdout.trim().split('\n').slice(-3).join(' ')}\n${await lastLog(ctx, name)}`, `see the service's log on the controller`);
  }
  if (name === 'glance-api') await waitApiAnswers(ctx, name);
  ctx.progress(`${verb} ${name} done (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

export async function lastLog(ctx: HostContext, name: string): Promise<string> {
  const log = ctx.profile.services.find((s) => s.name === name)?.log;
  if (!log) return '';
  const r = await ctx.t.exec(['tail', '-n', '8', log]);
  return r.code === 0 && r.stdout.trim() ? `last lines of ${log}:\n${r.stdout.trimEnd()}` : '';
}

/** Polls Glance's version document through the tunnel until it answers; 300 or 200 mean up. */
export async function waitApiAnswers(ctx: HostContext, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ks = await ctx.keystone();
  const glance = glanceClient(ctx.t, `http://127.0.0.1:${ctx.profile.glanceApiPort}`, async () => ks.token());
  const fail = async (what: string) => {
    throw new EngineError(`service ${name}`, `${name} was restarted but ${what} after ${timeoutMs / 1000} s\n${await lastLog(ctx, name)}`,
      'fix what its log says (often [database] connection or [keystone_authtoken]), then run again: the restart stays pending until it succeeds');
  };
  if (!(await glance.waitUntilAnswers(timeoutMs).then(() => true, () => false))) await fail(`does not answer on port ${ctx.profile.glanceApiPort}`);
  // GET / answers even when the database or Keystone settings are wrong: ready means an authenticated call works.
  let last = '';
  while (Date.now() < deadline) {
    try {
      await glance.listImages(1);
      return;
    } catch (e) {
      last = (e as Error).message;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await fail(`cannot list images (${last})`);
}
