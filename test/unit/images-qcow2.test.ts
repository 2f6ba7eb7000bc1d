// The qcow2 image the closing check uploads, read back as QEMU's docs/interop/qcow2.txt describes the
// format: the header's fields, the refcount table and block, the L1 and L2 tables, and the guest data
// read through them; the checks Glance's format inspectors make (magic, version, no backing file, no
// incompatible feature bit). Where qemu-img is installed, `qemu-img check` and `qemu-img compare` judge
// the same files (skipped where it is not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeQcow2, readQcow2Header } from '../../src/images/qcow2.ts';
import { generatedImage } from '../../src/images/upload-source.ts';

const MASK = 0x00fffffffffffe00n; // bits 9-55: a host offset
const COPIED = 1n << 63n;

/** The guest disk, read through the L1 and L2 tables (a reader written from the spec, not from makeQcow2). */
function readGuest(file: Buffer): Buffer {
  const h = readQcow2Header(file);
  const cs = 1 << h.clusterBits;
  const l2Entries = cs / 8;
  const guest = Buffer.alloc(Number(h.size));
  for (let g = 0; g * cs < guest.length; g++) {
    const l1 = file.readBigUInt64BE(Number(h.l1TableOffset) + Math.floor(g / l2Entries) * 8);
    const l2Offset = l1 & MASK;
    if (l2Offset === 0n) continue;
    const l2 = file.readBigUInt64BE(Number(l2Offset) + (g % l2Entries) * 8);
    const host = l2 & MASK;
    if (host === 0n) continue;
    file.copy(guest, g * cs, Number(host), Number(host) + Math.min(cs, guest.length - g * cs));
  }
  return guest;
}

/** Refcount of each host cluster, from the refcount table and its blocks (16-bit entries). */
function refcounts(file: Buffer): number[] {
  const h = readQcow2Header(file);
  const cs = 1 << h.clusterBits;
  const perBlock = cs / 2;
  const out: number[] = [];
  for (let c = 0; c < file.length / cs; c++) {
    const block = file.readBigUInt64BE(Number(h.refcountTableOffset) + Math.floor(c / perBlock) * 8) & MASK;
    out.push(block === 0n ? 0 : file.readUInt16BE(Number(block) + (c % perBlock) * 2));
  }
  return out;
}

test('the header: QFI\\xfb, version 3, 104 bytes, the virtual size, 64 KiB clusters, no backing file, no feature bit', () => {
  const file = makeQcow2(crypto.randomBytes(1 << 20));
  assert.deepEqual([...file.subarray(0, 4)], [0x51, 0x46, 0x49, 0xfb]);
  const h = readQcow2Header(file);
  assert.equal(h.version, 3);
  assert.equal(h.headerLength, 104);
  assert.equal(h.size, 1048576n);
  assert.equal(h.clusterBits, 16);
  assert.equal(h.backingFileOffset, 0n);
  assert.equal(h.backingFileSize, 0);
  assert.equal(h.cryptMethod, 0);
  assert.equal(h.incompatibleFeatures, 0n);
  assert.equal(h.compatibleFeatures, 0n);
  assert.equal(h.autoclearFeatures, 0n);
  assert.equal(h.refcountOrder, 4);
  assert.equal(h.nbSnapshots, 0);
  assert.equal(h.snapshotsOffset, 0n);
  // The bytes after the header are zero: the header extension area ends at once (type 0).
  assert.equal(file.readUInt32BE(104), 0);
});

test('the tables: refcount table at cluster 1, L1 at cluster 3 with one entry, every offset cluster-aligned, each cluster counted once', () => {
  const file = makeQcow2(crypto.randomBytes(1 << 20));
  const h = readQcow2Header(file);
  const cs = 1 << h.clusterBits;
  assert.equal(h.refcountTableOffset, BigInt(cs));
  assert.equal(h.refcountTableClusters, 1);
  assert.equal(h.l1TableOffset, BigInt(3 * cs));
  assert.equal(h.l1Size, 1, '1 MiB needs one L2 table of 8192 entries');
  const l1 = file.readBigUInt64BE(Number(h.l1TableOffset));
  assert.equal(l1 & COPIED, COPIED, 'the L2 table is marked COPIED (refcount 1)');
  assert.equal((l1 & MASK) % BigInt(cs), 0n);
  assert.equal(file.length % cs, 0);
  // header, refcount table, refcount block, L1, L2, 16 data clusters
  assert.equal(file.length / cs, 5 + 16);
  assert.deepEqual(refcounts(file), new Array(21).fill(1));
});

test('the guest disk reads back as the data it was made from', () => {
  const guest = crypto.randomBytes(1 << 20);
  assert.ok(readGuest(makeQcow2(guest)).equals(guest));
});

test('zero clusters take no room; small clusters need several L2 tables and an L1 table over two clusters', () => {
  const guest = Buffer.alloc(3 << 20);
  crypto.randomBytes(4096).copy(guest, 70_000);
  guest[guest.length - 1] = 7;
  const file = makeQcow2(guest, { clusterBits: 9 });
  const h = readQcow2Header(file);
  assert.equal(h.clusterBits, 9);
  assert.equal(h.l1Size, 96, '6144 clusters / 64 entries per L2 table');
  assert.ok(readGuest(file).equals(guest));
  // 10 data clusters (9 under the random 4096 bytes, which straddle cluster edges, and the last one), 2 L2 tables, 2 of L1.
  const counts = refcounts(file);
  assert.ok(counts.every((c) => c === 1));
  assert.equal(file.length, (3 + 2 + 2 + 10) * 512);
});

test('the generated check image: 1 MiB of random guest data, a new one each time, named as given', () => {
  const a = generatedImage('a');
  const b = generatedImage('b');
  assert.equal(a.diskFormat, 'qcow2');
  assert.equal(a.virtualSize, 1 << 20);
  assert.equal(a.size, 21 * 65536);
  const body = a.open().body as Buffer;
  assert.equal(readQcow2Header(body).size, 1048576n);
  assert.notEqual(a.open().digests().md5, b.open().digests().md5);
  assert.match(a.open().digests().sha512, /^[0-9a-f]{128}$/);
});

test('sizes qcow2 cannot hold are refused', () => {
  assert.throws(() => makeQcow2(Buffer.alloc(0)), /positive multiple of 512/);
  assert.throws(() => makeQcow2(Buffer.alloc(1000)), /positive multiple of 512/);
  assert.throws(() => makeQcow2(Buffer.alloc(512), { clusterBits: 8 }), /9 to 21/);
  assert.throws(() => readQcow2Header(Buffer.alloc(200)), /not a qcow2 image/);
});

const qemuImg = spawnSync('qemu-img', ['--version']).status === 0;

test('qemu-img check finds no error, and qemu-img compare finds the guest data', { skip: !qemuImg && 'qemu-img is not installed' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-qcow2-'));
  try {
    for (const [name, guest, clusterBits] of [['one-mib', crypto.randomBytes(1 << 20), 16], ['sparse', Buffer.alloc(3 << 20, 0).fill(9, 100_000, 200_000), 9]] as const) {
      const q = path.join(dir, `${name}.qcow2`);
      const raw = path.join(dir, `${name}.raw`);
      fs.writeFileSync(q, makeQcow2(guest, { clusterBits }));
      fs.writeFileSync(raw, guest);
      const check = spawnSync('qemu-img', ['check', '--output=json', q], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      const report = JSON.parse(check.stdout) as { 'check-errors': number; leaks?: number; corruptions?: number };
      assert.equal(report['check-errors'], 0);
      assert.equal(report.leaks ?? 0, 0);
      assert.equal(report.corruptions ?? 0, 0);
      const info = JSON.parse(spawnSync('qemu-img', ['info', '--output=json', q], { encoding: 'utf8' }).stdout) as { format: string; 'virtual-size': number; 'cluster-size': number };
      assert.equal(info.format, 'qcow2');
      assert.equal(info['virtual-size'], guest.length);
      assert.equal(info['cluster-size'], 1 << clusterBits);
      const cmp = spawnSync('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', q, raw], { encoding: 'utf8' });
      assert.equal(cmp.status, 0, cmp.stdout + cmp.stderr);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
