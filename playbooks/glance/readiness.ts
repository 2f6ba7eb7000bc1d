// glance-api is ready when an authenticated call works: GET / answers 300 even when the database or
// Keystone settings are wrong, so readiness is an image list with a real token. glance-registry (Juno)
// has no call of its own worth making: it is ready when it answers HTTP on its port, before the API
// that uses it is restarted.
import type { Host } from '../../src/engine/host.ts';
import type { Provider } from '../../src/engine/providers.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { glanceClient } from '../../src/clients/glance.ts';
import { httpRequest } from '../../src/clients/http.ts';
import type { KeystoneSession } from '../../src/providers/keystone.ts';
import type { GlanceService } from './profiles.ts';

/**
 * Each glance-api worker pays for its first authenticated request (keystonemiddleware logs in as glance: a
 * Keystone password hash), right after the restart rather than in the operator's next run (usually the
 * very next one), which waited 1–1.5 s on a cold worker. The workers share one listening socket and any
 * of them may take any request, so one request per worker left a worker cold about one time in two (two
 * workers, seen on the lab): four per worker, all at once, leave one cold about once in a hundred.
 */
async function warmWorkers(host: Host, glance: ReturnType<typeof glanceClient>): Promise<void> {
  // python3 on Debian, python (2.7) on Ubuntu 14.04.
  const r = await host.t.exec(['pgrep', '-c', '-f', '^/usr/bin/python[0-9.]* /usr/bin/glance-api']);
  const workers = Math.min(16, Math.max(0, Number(r.stdout.trim()) - 1));
  await Promise.all(Array.from({ length: workers * 4 }, () => glance.listImages(1).catch(() => undefined)));
}

// Bullseye's glance-api is 8 uwsgi processes: on a busy 2-core controller it took over 60 s to answer.
export function glanceApiReady(svc: GlanceService, keystone: Provider<KeystoneSession>, timeoutMs = 120_000) {
  return async (host: Host): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const ks = await (await host.use(keystone)).reader();
    const glance = glanceClient(host.t, `http://127.0.0.1:${svc.port}`, async () => ks.token());
    const fail = (what: string): never => {
      // The restart's caller adds the service's own lines since the restart.
      throw new EngineError(`service ${svc.name}`, `${svc.name} was restarted but ${what} after ${timeoutMs / 1000} s`,
        'fix what its log says (often [database] connection or [keystone_authtoken]), then run again: the restart stays pending until it succeeds');
    };
    if (!(await glance.waitUntilAnswers(timeoutMs).then(() => true, () => false))) fail(`does not answer on port ${svc.port}`);
    let last = '';
    while (Date.now() < deadline) {
      try {
        await glance.listImages(1);
        await warmWorkers(host, glance);
        return;
      } catch (e) {
        last = (e as Error).message;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    fail(`cannot list images (${last})`);
  };
}

/** glance-registry answers HTTP on its port (any status: without a token its keystone pipeline says 401). */
export function glanceRegistryReady(svc: GlanceService, timeoutMs = 60_000) {
  return async (host: Host): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        await httpRequest(host.t, `http://127.0.0.1:${svc.port}/`, { method: 'GET', timeoutMs: 5000 });
        return;
      } catch (e) {
        last = (e as Error).message;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    // The restart's caller adds the service's own lines since the restart.
    throw new EngineError(`service ${svc.name}`, `${svc.name} was restarted but does not answer on port ${svc.port} after ${timeoutMs / 1000} s (${last})`,
      'fix what its log says (often [database] connection in glance-registry.conf), then run again: the restart stays pending until it succeeds');
  };
}
