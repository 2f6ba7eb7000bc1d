// Telling an operator's image file apart by its first bytes (verify --image): the signatures Glance's
// format inspectors and qemu-img use, written here by hand for every format, and, where qemu-img is
// installed, real files it made in each format it writes. Compressed or archived images are refused with
// what to do; the file is read at its start and end only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { detectDiskFormat, inspectImageFile, NotADiskImage, HEAD_BYTES } from '../../src/images/detect.ts';
import { makeQcow2 } from '../../src/images/qcow2.ts';
import { imageFile } from '../../src/images/upload-source.ts';

const at = (size: number, parts: [number, Buffer | number[] | string][]) => {
  const b = Buffer.alloc(size);
  for (const [off, v] of parts) (typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v)).copy(b, off);
  return b;
};
/** A real qcow2 header with one change made to it. */
const withQcow2Header = (change: (h: Buffer) => void) => {
  const h = makeQcow2(Buffer.alloc(65536, 1), { clusterBits: 12 });
  change(h);
  return h;
};
const detect = (head: Buffer, tail = head.subarray(Math.max(0, head.length - 512)), size = head.length) => detectDiskFormat(head, tail, size);

test('qcow2: disk_format qcow2 and the virtual size its header gives', () => {
  const d = detect(makeQcow2(crypto.randomBytes(1 << 16), { clusterBits: 12 }));
  assert.equal(d.diskFormat, 'qcow2');
  assert.equal(d.what, 'qcow2 version 3');
  assert.equal(d.virtualSize, 1 << 16);
});

test('the other formats Glance knows, by their signatures', () => {
  const cases: [string, Buffer, string][] = [
    ['vmdk', at(1024, [[0, 'KDMV']]), 'VMDK'],
    ['vmdk', at(1024, [[0, '# Disk DescriptorFile\nversion=1\n']]), 'VMDK'],
    ['vhdx', at(1024, [[0, 'vhdxfile']]), 'VHDX'],
    ['vhd', at(1024, [[0, 'conectix']]), 'VHD'],
    ['vdi', at(1024, [[0, '<<< Oracle VM VirtualBox Disk Image >>>\n'], [0x40, [0x7f, 0x10, 0xda, 0xbe]]]), 'VDI'],
    ['iso', at(HEAD_BYTES, [[0x8001, 'CD001']]), 'ISO 9660'],
  ];
  for (const [format, head, what] of cases) {
    const d = detect(head);
    assert.equal(d.diskFormat, format, what);
    assert.equal(d.what, what);
    assert.equal(d.virtualSize, undefined, `${what}: no virtual size is claimed`);
  }
});

test('a fixed VHD is known by its footer, at the end of the file', () => {
  const size = 4096 + 512;
  const head = Buffer.alloc(4096);
  const tail = at(512, [[0, 'conectix']]);
  assert.equal(detectDiskFormat(head, tail, size).diskFormat, 'vhd');
});

test('raw: no known header, an MBR or GPT disk, a LUKS volume; the virtual size is the file size', () => {
  const cases: [Buffer, RegExp][] = [
    [crypto.randomBytes(4096).fill(0, 0, 1024), /no known header/],
    [at(4096, [[510, [0x55, 0xaa]]]), /MBR/],
    [at(4096, [[510, [0x55, 0xaa]], [512, 'EFI PART']]), /GPT/],
    [at(4096, [[0, [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]]]), /LUKS/],
  ];
  for (const [head, what] of cases) {
    const d = detect(head);
    assert.equal(d.diskFormat, 'raw');
    assert.match(d.what, what);
    assert.equal(d.virtualSize, 4096);
  }
});

test('compressed and archived images, qcow v1 and QED are refused with what to do', () => {
  const cases: [Buffer, RegExp, RegExp][] = [
    [zlib.gzipSync(Buffer.alloc(1000)), /gzip-compressed/, /gunzip it first/],
    [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]), /xz-compressed/, /unxz/],
    [Buffer.from('BZh91AY&SY'), /bzip2/, /bunzip2/],
    [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]), /zstd/, /unzstd/],
    [Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0]), /zip archive/, /unzip/],
    [at(1024, [[257, 'ustar']]), /tar archive/, /OVA holds a \.vmdk/],
    [at(1024, [[0, [0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 1]]]), /qcow version 1/, /qemu-img convert -O qcow2/],
    [at(1024, [[0, 'QED\0']]), /QED/, /qemu-img convert/],
    [withQcow2Header((h) => { h.writeBigUInt64BE(512n, 8); h.writeUInt32BE(8, 16); h.write('base.img', 512, 'latin1'); }), /over a backing file \(base\.img\)/, /flatten it first/],
    [withQcow2Header((h) => { h.writeBigUInt64BE(4n, 72); }), /external data file/, /qemu-img convert/],
  ];
  for (const [head, what, hint] of cases) {
    assert.throws(() => detect(head), (e: unknown) => e instanceof NotADiskImage && what.test(e.message) && hint.test(e.hint));
  }
});

test('a file is read at its start and end only, and --disk-format wins over the header', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-detect-'));
  try {
    const file = path.join(dir, 'disk.qcow2');
    fs.writeFileSync(file, makeQcow2(crypto.randomBytes(1 << 20)));
    const reads: number[] = [];
    const readSync = fs.readSync;
    // Count the bytes asked for: never the whole 1.3 MiB.
    (fs as { readSync: typeof fs.readSync }).readSync = ((fd: number, buf: NodeJS.ArrayBufferView, ...rest: unknown[]) => {
      reads.push(buf.byteLength);
      return (readSync as (...a: unknown[]) => number)(fd, buf, ...rest);
    }) as typeof fs.readSync;
    let info;
    try {
      info = inspectImageFile(file);
    } finally {
      (fs as { readSync: typeof fs.readSync }).readSync = readSync;
    }
    assert.equal(info.detected.diskFormat, 'qcow2');
    assert.equal(info.size, 21 * 65536);
    assert.deepEqual(reads, [HEAD_BYTES, 512]);

    const auto = imageFile(file);
    assert.equal(auto.diskFormat, 'qcow2');
    assert.equal(auto.chosen, false);
    assert.equal(auto.virtualSize, 1 << 20);
    assert.equal(auto.name, 'disk.qcow2');
    const asRaw = imageFile(file, 'raw');
    assert.equal(asRaw.diskFormat, 'raw');
    assert.equal(asRaw.chosen, true);
    assert.equal(asRaw.virtualSize, undefined, 'no virtual size is promised for a format the header does not say');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a streamed file is hashed as it is sent: md5 and sha512 of every byte', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-stream-'));
  try {
    const file = path.join(dir, 'big.raw');
    const data = crypto.randomBytes(3 * 65536 + 123);
    fs.writeFileSync(file, data);
    const src = imageFile(file);
    const { body, digests } = src.open();
    let seen = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      assert.ok(chunk.length <= 65536, 'read 64 KiB at a time');
      seen += chunk.length;
    }
    assert.equal(seen, data.length);
    const d = digests();
    assert.equal(d.bytes, data.length);
    assert.equal(d.md5, crypto.createHash('md5').update(data).digest('hex'));
    assert.equal(d.sha512, crypto.createHash('sha512').update(data).digest('hex'));
    assert.equal(await src.hash('sha256'), crypto.createHash('sha256').update(data).digest('hex'));
    assert.equal(await src.hash('no-such-hash'), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const qemuImg = spawnSync('qemu-img', ['--version']).status === 0;

test('files qemu-img writes are told apart as Glance would name them', { skip: !qemuImg && 'qemu-img is not installed' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-qemu-formats-'));
  try {
    const cases: [string, string[], string][] = [
      ['qcow2', [], 'qcow2'],
      ['qcow2', ['-o', 'compat=0.10'], 'qcow2'],
      ['vmdk', [], 'vmdk'],
      ['vpc', [], 'vhd'],
      ['vpc', ['-o', 'subformat=fixed'], 'vhd'],
      ['vhdx', [], 'vhdx'],
      ['vdi', [], 'vdi'],
      ['raw', [], 'raw'],
    ];
    for (const [fmt, opts, want] of cases) {
      const file = path.join(dir, `${fmt}${opts.join('')}.img`);
      const r = spawnSync('qemu-img', ['create', '-q', '-f', fmt, ...opts, file, '4M'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(inspectImageFile(file).detected.diskFormat, want, `${fmt} ${opts.join(' ')}`);
    }
    const backed = path.join(dir, 'backed.qcow2');
    assert.equal(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', path.join(dir, 'qcow2.img'), '-F', 'qcow2', backed]).status, 0);
    assert.throws(() => inspectImageFile(backed), /over a backing file \(.*qcow2\.img\)/);
    const qed = path.join(dir, 'x.qed');
    assert.equal(spawnSync('qemu-img', ['create', '-q', '-f', 'qed', qed, '4M']).status, 0);
    assert.throws(() => inspectImageFile(qed), /QED/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
