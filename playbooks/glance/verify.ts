// The install guide's verification through the Glance v2 API: upload a small generated image with a
// progress bar, see it `active` with the right checksum and its file in the store owned by glance,
// delete it, see the file gone. A converged re-run only asks the API for its image list (no write).
import crypto from 'node:crypto';
import type { Host } from '../../src/engine/host.ts';
import type { Provider } from '../../src/engine/providers.ts';
import type { CheckResult } from '../../src/engine/playbook.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { glanceClient } from '../../src/clients/glance.ts';
import { lastLog } from '../../src/resources/service-control.ts';
import type { KeystoneSession } from '../../src/providers/keystone.ts';
import type { TlsTrust } from '../../src/clients/tls-tunnel.ts';

const IMAGE_SIZE = 1 << 20;
/** Every check's image carries it, so one a dead run left is found again (and nothing else is). */
const TAG = 'install-glance-verify';
const LEFT_MAX = 20;
const STORE = '/var/lib/glance/images';

export interface VerifyTarget {
  endpoint: string;
  keystone: Provider<KeystoneSession>;
  /** glance-api's log, shown when the API fails. */
  log: string;
  /** For an https endpoint: what to trust (the same as for Keystone). */
  tls?: TlsTrust;
}

export async function checkGlance(host: Host, v: VerifyTarget, opts: { full: boolean }): Promise<CheckResult> {
  try {
    return await check(host, v, opts);
  } catch (e) {
    if (e instanceof EngineError) throw e;
    const hint = (e as { hint?: string }).hint ?? 'read the log lines above';
    throw new EngineError('verify', `${(e as Error).message}\n${await lastLog(host, v.log)}`, hint, e);
  }
}

async function check(host: Host, v: VerifyTarget, opts: { full: boolean }): Promise<CheckResult> {
  const t0 = Date.now();
  const ks = await (await host.use(v.keystone)).reader();
  const glance = glanceClient(host.t, v.endpoint, async () => ks.token(), { tls: v.tls });
  // A check cut off half-way (the run killed during the upload) leaves its image behind: found by its tag.
  const left = await glance.listImages(LEFT_MAX, TAG).catch(async (e: Error) => {
    throw new EngineError('verify', `the Glance API does not list images: ${e.message}\n${await lastLog(host, v.log)}`, 'run "install-glance apply" to repair, or read the log above');
  });
  if (!opts.full) {
    if (left.length) host.note(`${left.length} image${left.length > 1 ? 's' : ''} an earlier check left behind (${left.map((i) => i.id).join(', ')}): the next upload check (verify) removes ${left.length > 1 ? 'them' : 'it'}`);
    const ms = Date.now() - t0;
    return { kind: 'list', ok: true, ms, summary: `the Glance API lists images (${ms} ms)` };
  }
  for (const old of left) await glance.deleteImage(old.id);
  const removed = left.length ? `; removed ${left.length} image${left.length > 1 ? 's' : ''} an earlier check left behind` : '';
  // Random bytes, so a checksum match proves these bytes went through and not an old image's.
  const data = crypto.randomBytes(IMAGE_SIZE);
  const md5 = crypto.createHash('md5').update(data).digest('hex');
  const image = await glance.createImage({ name: `install-glance-verify-${Date.now()}`, disk_format: 'raw', container_format: 'bare', visibility: 'private', tags: [TAG] });
  let deleted = false;
  try {
    let lastPct = -1;
    await glance.uploadImage(image.id, data, (sent) => {
      const pct = Math.floor((sent / data.length) * 100);
      if (pct !== lastPct && (pct === 100 || pct - lastPct >= 25)) {
        lastPct = pct;
        const fill = Math.round(pct / 100 * 30);
        host.progress(`verify upload [${'#'.repeat(fill)}${'.'.repeat(30 - fill)}] ${String(pct).padStart(3)}% of ${data.length} bytes`);
      }
    });
    const got = await glance.getImage(image.id);
    if (!got) throw new EngineError('verify', `the uploaded image ${image.id} is gone`, 'see the glance-api log on the controller');
    if (got.status !== 'active') throw new EngineError('verify', `the uploaded image is ${got.status}, not active`, 'see the glance-api log on the controller');
    if (got.checksum && got.checksum !== md5) throw new EngineError('verify', `the image's checksum is ${got.checksum}, the upload's ${md5}`, 'the store corrupts data: check its disk');
    const storeFile = `${STORE}/${image.id}`;
    const st = await host.t.exec(['stat', '-c', '%U %s', storeFile]);
    const [owner, size] = st.stdout.trim().split(' ');
    if (st.code !== 0 || owner !== 'glance' || Number(size) !== data.length) {
      throw new EngineError('verify', `the image file ${storeFile} is ${st.code !== 0 ? 'missing' : `owned by ${owner}, ${size} bytes`}`, 'check [glance_store] / [fs] filesystem_store_datadir in glance-api.conf');
    }
    await glance.deleteImage(image.id);
    deleted = true;
    const gone = await host.t.exec(['test', '!', '-e', storeFile]);
    if (gone.code !== 0) throw new EngineError('verify', `deleting the image left ${storeFile} behind`, 'remove it by hand; see the glance-api log');
    const ms = Date.now() - t0;
    return {
      kind: 'upload', ok: true, ms, imageId: image.id, size: data.length, checksum: md5, storeFile,
      ...(left.length ? { removedLeftovers: left.map((i) => i.id) } : {}),
      summary: `image ${image.id}: active, ${data.length} bytes, md5 ${md5}, file in the store owned by glance, then deleted (${(ms / 1000).toFixed(1)} s)${removed}`,
    };
  } finally {
    if (!deleted) await glance.deleteImage(image.id).catch(() => {});
  }
}
