// The seed's verification step through the Glance v2 API: upload a small generated image with a
// progress bar, see it `active` with the right checksum and its file in the store owned by glance,
// delete it, see the file gone. A converged re-run only asks the API for its image list (no write).
import crypto from 'node:crypto';
import type { HostContext } from './context.ts';
import { EngineError } from './errors.ts';
import { glanceClient } from '../clients/glance.ts';
import { lastLog } from './service-control.ts';

export interface VerifyResult {
  kind: 'upload' | 'list';
  ok: boolean;
  imageId?: string;
  size?: number;
  checksum?: string;
  storeFile?: string;
  ms: number;
}

const IMAGE_SIZE = 1 << 20;

function generatedImage(): Buffer {
  // Random bytes, so a checksum match proves these bytes went through and not an old image's.
  return crypto.randomBytes(IMAGE_SIZE);
}

export async function verifyGlance(ctx: HostContext, opts: { full: boolean }): Promise<VerifyResult> {
  try {
    return await check(ctx, opts);
  } catch (e) {
    if (e instanceof EngineError) throw e;
    const hint = (e as { hint?: string }).hint ?? 'read the log lines above';
    throw new EngineError('verify', `${(e as Error).message}\n${await lastLog(ctx, 'glance-api')}`, hint, e);
  }
}

async function check(ctx: HostContext, opts: { full: boolean }): Promise<VerifyResult> {
  const t0 = Date.now();
  const ks = await ctx.keystone();
  const glance = glanceClient(ctx.t, ctx.settings.endpoints.public, async () => ks.token());
  if (!opts.full) {
    await glance.listImages(1).catch(async (e: Error) => {
      throw new EngineError('verify', `the Glance API does not list images: ${e.message}\n${await lastLog(ctx, 'glance-api')}`, 'run "install-glance apply" to repair, or read the log above');
    });
    return { kind: 'list', ok: true, ms: Date.now() - t0 };
  }
  const data = generatedImage();
  const md5 = crypto.createHash('md5').update(data).digest('hex');
  const image = await glance.createImage({ name: `install-glance-verify-${Date.now()}`, disk_format: 'raw', container_format: 'bare', visibility: 'private' });
  let deleted = false;
  try {
    let lastPct = -1;
    await glance.uploadImage(image.id, data, (sent) => {
      const pct = Math.floor((sent / data.length) * 100);
      if (pct !== lastPct && (pct === 100 || pct - lastPct >= 25)) {
        lastPct = pct;
        const fill = Math.round(pct / 100 * 30);
        ctx.progress(`verify upload [${'#'.repeat(fill)}${'.'.repeat(30 - fill)}] ${String(pct).padStart(3)}% of ${data.length} bytes`);
      }
    });
    const got = await glance.getImage(image.id);
    if (!got) throw new EngineError('verify', `the uploaded image ${image.id} is gone`, 'see the glance-api log on the controller');
    if (got.status !== 'active') throw new EngineError('verify', `the uploaded image is ${got.status}, not active`, 'see the glance-api log on the controller');
    if (got.checksum && got.checksum !== md5) throw new EngineError('verify', `the image's checksum is ${got.checksum}, the upload's ${md5}`, 'the store corrupts data: check its disk');
    const storeFile = `/var/lib/glance/images/${image.id}`;
    const st = await ctx.t.exec(['stat', '-c', '%U %s', storeFile]);
    const [owner, size] = st.stdout.trim().split(' ');
    if (st.code !== 0 || owner !== 'glance' || Number(size) !== data.length) {
      throw new EngineError('verify', `the image file ${storeFile} is ${st.code !== 0 ? 'missing' : `owned by ${owner}, ${size} bytes`}`, 'check [glance_store] / [fs] filesystem_store_datadir in glance-api.conf');
    }
    await glance.deleteImage(image.id);
    deleted = true;
    const gone = await ctx.t.exec(['test', '!', '-e', storeFile]);
    if (gone.code !== 0) throw new EngineError('verify', `deleting the image left ${storeFile} behind`, 'remove it by hand; see the glance-api log');
    return { kind: 'upload', ok: true, imageId: image.id, size: data.length, checksum: md5, storeFile, ms: Date.now() - t0 };
  } finally {
    if (!deleted) await glance.deleteImage(image.id).catch(() => {});
  }
}
