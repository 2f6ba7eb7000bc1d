// The install guide's verification through the Glance v2 API: upload what the guide uploads (a qcow2
// image, container_format bare, public), with a progress bar; see it `active` with the size and checksums
// of the bytes sent, the virtual size Glance's format inspection read from it (Glance 21 and later), and
// its file in the store owned by glance; delete it (unless kept), see the file gone. The image is a small
// generated qcow2, or the operator's own file (`verify --image FILE`). A converged re-run only asks the
// API for its image list (no write).
import type { Host } from '../../src/engine/host.ts';
import type { Provider } from '../../src/engine/providers.ts';
import type { CheckResult } from '../../src/engine/playbook.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { glanceClient, GlanceError, type GlanceClient, type GlanceImage } from '../../src/clients/glance.ts';
import { lastLog } from '../../src/resources/service-control.ts';
import type { KeystoneSession } from '../../src/providers/keystone.ts';
import type { TlsTrust } from '../../src/clients/tls-tunnel.ts';
import { NotADiskImage, type DiskFormat } from '../../src/images/detect.ts';
import { generatedImage, imageFile, type Digests, type UploadSource } from '../../src/images/upload-source.ts';
import type { UploadFacts } from './profiles.ts';

/** Every check's image carries it (unless kept), so one a dead run left is found again, and nothing else is. */
const TAG = 'install-glance-verify';
const LEFT_MAX = 20;
const STORE = '/var/lib/glance/images';
const CONTAINER_FORMAT = 'bare';
// The guide's `glance image-create … --is-public True`.
const VISIBILITY = 'public';

export interface VerifyTarget {
  endpoint: string;
  keystone: Provider<KeystoneSession>;
  /** glance-api's log, shown when the API fails. */
  log: string;
  /** For an https endpoint: what to trust (the same as for Keystone). */
  tls?: TlsTrust;
  /** What the release's Glance does with an upload (what can be checked afterwards). */
  uploads: UploadFacts;
  /** The operator's image (`verify --image`), instead of the generated one. */
  image?: { path: string; diskFormat?: DiskFormat };
  /** Leave the image in Glance (`verify --keep`). */
  keep?: boolean;
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
    // After an apply, the quick check's advice is another apply; verify keeps the client's own (a 401 names [keystone_authtoken]).
    const hint = opts.full ? (e as { hint?: string }).hint ?? 'read the log lines above' : 'run "install-glance apply" to repair, or read the log above';
    throw new EngineError('verify', `the Glance API does not list images: ${e.message}\n${await lastLog(host, v.log)}`, hint);
  });
  if (!opts.full) {
    if (left.length) host.note(`${left.length} image${left.length > 1 ? 's' : ''} an earlier check left behind (${left.map((i) => i.id).join(', ')}): the next upload check (verify) removes ${left.length > 1 ? 'them' : 'it'}`);
    const ms = Date.now() - t0;
    return { kind: 'list', ok: true, ms, summary: `the Glance API lists images (${ms} ms)` };
  }
  for (const old of left) await glance.deleteImage(old.id);
  const removed = left.length ? `; removed ${left.length} image${left.length > 1 ? 's' : ''} an earlier check left behind` : '';
  const src = source(v);
  if (v.image) host.note(formatNote(src, v.uploads));
  const image = await glance.createImage({ name: src.name, disk_format: src.diskFormat, container_format: CONTAINER_FORMAT, visibility: VISIBILITY, ...(v.keep ? {} : { tags: [TAG] }) });
  let deleted = false;
  let passed = false;
  try {
    const sent = await upload(host, glance, image.id, src, v.log);
    const got = await glance.getImage(image.id);
    if (!got) throw new EngineError('verify', `the uploaded image ${image.id} is gone`, 'see the glance-api log on the controller');
    const checked = await checkImage(got, src, sent, v.uploads);
    const storeFile = `${STORE}/${image.id}`;
    const st = await host.t.exec(['stat', '-c', '%U %s', storeFile]);
    const [owner, size] = st.stdout.trim().split(' ');
    if (st.code !== 0 || owner !== 'glance' || Number(size) !== src.size) {
      throw new EngineError('verify', `the image file ${storeFile} is ${st.code !== 0 ? 'missing' : `owned by ${owner}, ${size} bytes (${src.size} were sent)`}`, 'check [glance_store] / [fs] filesystem_store_datadir in glance-api.conf');
    }
    if (!v.keep) {
      await glance.deleteImage(image.id);
      deleted = true;
      const gone = await host.t.exec(['test', '!', '-e', storeFile]);
      if (gone.code !== 0) throw new EngineError('verify', `deleting the image left ${storeFile} behind`, 'remove it by hand; see the glance-api log');
    }
    passed = true;
    const ms = Date.now() - t0;
    const fate = v.keep ? `kept: remove it with openstack image delete ${image.id}` : 'then deleted';
    return {
      kind: 'upload', ok: true, ms, imageId: image.id, name: src.name, source: v.image ? v.image.path : 'generated',
      size: src.size, checksum: sent.md5, ...checked.report, diskFormat: src.diskFormat, containerFormat: CONTAINER_FORMAT, visibility: VISIBILITY, storeFile, kept: !!v.keep,
      ...(left.length ? { removedLeftovers: left.map((i) => i.id) } : {}),
      summary: `image ${image.id}${v.image ? ` (${src.name})` : ''}: active, ${checked.format}, ${src.size} bytes, md5 ${sent.md5}${checked.hash}, ${VISIBILITY}, file in the store owned by glance, ${fate} (${(ms / 1000).toFixed(1)} s)${removed}`,
    };
  } finally {
    // --keep keeps an image that passed; one that failed is no image to keep.
    if (!deleted && !(v.keep && passed)) await glance.deleteImage(image.id).catch(() => {});
  }
}

function source(v: VerifyTarget): UploadSource {
  if (!v.image) return generatedImage(`install-glance-verify-${Date.now()}`);
  try {
    return imageFile(v.image.path, v.image.diskFormat);
  } catch (e) {
    if (e instanceof NotADiskImage) throw new EngineError('verify', `${v.image.path} ${e.message}`, e.hint);
    throw new EngineError('verify', `cannot read ${v.image.path}: ${(e as Error).message}`, 'check the path given to --image');
  }
}

/** Says which disk_format the operator's image goes up as, and why. */
function formatNote(src: UploadSource, uploads: UploadFacts): string {
  if (!src.chosen) return `image ${src.label}: ${src.detected.what}, uploaded as disk_format ${src.diskFormat} (--disk-format to choose another)`;
  if (src.diskFormat === src.detected.diskFormat) return `image ${src.label}: disk_format ${src.diskFormat}, as given (its header agrees: ${src.detected.what})`;
  const refused = uploads.inspection === 'enforced' && src.diskFormat !== 'raw' ? '; this Glance refuses an upload whose bytes do not match its disk_format' : '';
  return `warning: image ${src.label}: disk_format ${src.diskFormat} as given, but its header says ${src.detected.what}${refused}`;
}

/** The bytes up, with the progress bar; returns what was sent. */
async function upload(host: Host, glance: GlanceClient, id: string, src: UploadSource, log: string): Promise<Digests> {
  const { body, digests } = src.open();
  let lastPct = -1;
  try {
    await glance.uploadImage(id, body, (sent) => {
      const pct = Math.floor((sent / src.size) * 100);
      if (pct !== lastPct && (pct === 100 || pct - lastPct >= 25)) {
        lastPct = pct;
        const fill = Math.round(pct / 100 * 30);
        host.progress(`verify upload [${'#'.repeat(fill)}${'.'.repeat(30 - fill)}] ${String(pct).padStart(3)}% of ${src.size} bytes`);
      }
    }, src.size);
  } catch (e) {
    // Glance 30 refuses bytes that do not match the disk_format, or that fail its safety checks, with 415 (its
    // image_data.py turns InvalidImageData into HTTPUnsupportedMediaType, whose JSON body keeps only webob's
    // "media type … is not supported"): the reason is in its log.
    const status = e instanceof GlanceError ? e.request.status : undefined;
    if (status === 400 || status === 415) {
      const why = await refusal(host, log);
      throw new EngineError('verify', `Glance refused the bytes of ${src.label} as disk_format ${src.diskFormat} (PUT …/file answered ${status})${why ? `: ${why}` : ''}`,
        src.chosen ? `check --disk-format (the file's header says ${src.detected.what})` : 'the image is not what its header says, or fails Glance\'s safety checks (a qcow2 backing file or data file): see the glance-api log');
    }
    throw e;
  }
  const sent = digests();
  if (sent.bytes !== src.size) throw new EngineError('verify', `${src.label} changed while it was sent (${sent.bytes} bytes read, ${src.size} expected)`, 'run again once nothing writes to the file');
  return sent;
}

/** Why glance-api refused an upload, from its log: the last format or safety message of image_data / location. */
async function refusal(host: Host, log: string): Promise<string | undefined> {
  const r = await host.t.exec(['tail', '-n', '60', log]);
  if (r.code !== 0) return undefined;
  const lines = r.stdout.split('\n').filter((l) => /does not match|[Ss]afety check|failed safety|InvalidImageData|[Ff]ormat inspection/.test(l));
  const last = lines.at(-1);
  // "… ERROR glance.api.v2.image_data [req-… - - default default] Image disk_format qcow2 does not match stream data raw: glance.…"
  return last?.replace(/^.*?\] /, '').replace(/: glance\.common\.exception\.\w+: .*$/, '').trim() || undefined;
}

/** What Glance says of the image against what was sent; the report's fields and the summary's parts. */
async function checkImage(got: GlanceImage, src: UploadSource, sent: Digests, uploads: UploadFacts): Promise<{ report: Record<string, unknown>; format: string; hash: string }> {
  const fail = (what: string, hint = 'see the glance-api log on the controller') => {
    throw new EngineError('verify', `the uploaded image ${got.id} ${what}`, hint);
  };
  if (got.status !== 'active') fail(`is ${got.status}, not active`);
  if (got.size !== null && got.size !== src.size) fail(`is ${got.size} bytes in Glance, ${src.size} were sent`, 'the store lost data: check its disk');
  if (got.checksum && got.checksum !== sent.md5) fail(`has checksum ${got.checksum}, the upload's is ${sent.md5}`, 'the store corrupts data: check its disk');
  if (got.disk_format !== src.diskFormat || got.container_format !== CONTAINER_FORMAT || got.visibility !== VISIBILITY) {
    fail(`is ${got.disk_format}/${got.container_format}/${got.visibility}, not ${src.diskFormat}/${CONTAINER_FORMAT}/${VISIBILITY} as created`);
  }
  const report: Record<string, unknown> = {};
  let hash = '';
  if (got.os_hash_value) {
    const algo = got.os_hash_algo ?? 'sha512';
    const expected = algo === 'sha512' ? sent.sha512 : await src.hash(algo);
    if (expected !== undefined && expected !== got.os_hash_value) fail(`has ${algo} ${got.os_hash_value.slice(0, 16)}…, the upload's is ${expected.slice(0, 16)}…`, 'the store corrupts data: check its disk');
    Object.assign(report, { osHashAlgo: algo, osHashValue: got.os_hash_value });
    hash = expected === undefined ? `, ${algo} not checked (no such hash here)` : `, ${algo} matches`;
  } else if (uploads.multihash) {
    fail('has no os_hash_value, which this release computes on every upload');
  }
  let format = src.diskFormat as string;
  if (got.virtual_size !== null) report.virtualSize = got.virtual_size;
  // What proves Glance read the image as the format it was given: the virtual size its inspection found.
  if (uploads.inspection !== 'none' && src.virtualSize !== undefined) {
    if (got.virtual_size !== src.virtualSize) {
      fail(got.virtual_size === null
        ? `has no virtual_size: Glance's format inspection did not read it as ${src.diskFormat}`
        : `has virtual_size ${got.virtual_size}, its header says ${src.virtualSize}`);
    }
    format = `${src.diskFormat} (virtual size ${src.virtualSize} bytes, read by Glance)`;
  }
  return { report, format, hash };
}
