// glance-api is ready when an authenticated call works: GET / answers 300 even when the database or
// Keystone settings are wrong, so readiness is an image list with a real token.
import type { Host } from '../../src/engine/host.ts';
import type { Provider } from '../../src/engine/providers.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { glanceClient } from '../../src/clients/glance.ts';
import type { KeystoneSession } from '../../src/providers/keystone.ts';
import type { GlanceService } from './profiles.ts';

export function glanceApiReady(svc: GlanceService, keystone: Provider<KeystoneSession>, timeoutMs = 60_000) {
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
        return;
      } catch (e) {
        last = (e as Error).message;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    fail(`cannot list images (${last})`);
  };
}
