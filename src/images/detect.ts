// What kind of disk image a file is, told from its first bytes (and its last 512, for a fixed VHD), the
// way Glance's format inspectors and qemu-img tell it: the Glance disk_format to upload it as, and its
// virtual size where the header gives one. Files Glance would store but no guest boots from as they are
// (compressed or archived images) are refused with what to do.
import fs from 'node:fs';
import { readQcow2Header } from './qcow2.ts';

/** Glance's disk formats (the default of [image_format] disk_formats, every release from Juno to today). */
export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

/** How many bytes of the start detection reads: the ISO 9660 volume descriptor is at 32769. */
export const HEAD_BYTES = 65_536;
export const TAIL_BYTES = 512;

export interface Detected {
  /** The Glance disk_format to upload it as. */
  diskFormat: DiskFormat;
  /** What the header says, for people: "qcow2 version 3", "ISO 9660", "no known header". */
  what: string;
  /** The virtual size the header gives (qcow2), or the bytes themselves (raw); absent when unknown. */
  virtualSize?: number;
}

/** A file that is not a disk image Glance should store as it is: what it is and what to do. */
export class NotADiskImage extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

const ascii = (b: Buffer, at: number, text: string) => b.length >= at + text.length && b.toString('latin1', at, at + text.length) === text;
const bytes = (b: Buffer, at: number, sig: number[]) => b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);

/**
 * The format of an image whose first bytes are `head` (HEAD_BYTES, or the whole file when shorter), whose
 * last bytes are `tail`, and whose size is `size`.
 */
export function detectDiskFormat(head: Buffer, tail: Buffer, size: number): Detected {
  if (bytes(head, 0, [0x1f, 0x8b])) throw compressed('gzip-compressed', 'gunzip');
  if (bytes(head, 0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) throw compressed('xz-compressed', 'unxz');
  if (ascii(head, 0, 'BZh')) throw compressed('bzip2-compressed', 'bunzip2');
  if (bytes(head, 0, [0x28, 0xb5, 0x2f, 0xfd])) throw compressed('zstd-compressed', 'unzstd');
  if (bytes(head, 0, [0x50, 0x4b, 0x03, 0x04])) throw compressed('a zip archive', 'unzip');
  if (ascii(head, 257, 'ustar')) {
    throw new NotADiskImage('is a tar archive (an OVA, or a packed image)', 'unpack it and give the disk image inside (an OVA holds a .vmdk)');
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x514649fb) {
    const version = head.readUInt32BE(4);
    if (version < 2) throw new NotADiskImage(`is a qcow version ${version} image, which Glance refuses`, 'convert it: qemu-img convert -O qcow2 FILE NEW.qcow2');
    const h = readQcow2Header(head);
    // Not whole on its own: Glance 30's safety checks refuse both, and no guest boots from the file alone.
    if (h.backingFileOffset !== 0n) {
      const at = Number(h.backingFileOffset);
      const name = at + h.backingFileSize <= head.length ? head.toString('utf8', at, at + h.backingFileSize) : 'another file';
      throw new NotADiskImage(`is a qcow2 image over a backing file (${name})`, 'flatten it first: qemu-img convert -O qcow2 FILE NEW.qcow2');
    }
    if (h.incompatibleFeatures & 4n) throw new NotADiskImage('is a qcow2 image whose data is in an external data file', 'make it whole first: qemu-img convert -O qcow2 FILE NEW.qcow2');
    return { diskFormat: 'qcow2', what: `qcow2 version ${h.version}`, virtualSize: Number(h.size) };
  }
  if (ascii(head, 0, 'QED\0')) throw new NotADiskImage('is a QED image, which Glance has no disk_format for', 'convert it: qemu-img convert -O qcow2 FILE NEW.qcow2');
  if (ascii(head, 0, 'KDMV') || ascii(head, 0, '# Disk DescriptorFile')) return { diskFormat: 'vmdk', what: 'VMDK' };
  if (ascii(head, 0, 'vhdxfile')) return { diskFormat: 'vhdx', what: 'VHDX' };
  if (ascii(head, 0, 'conectix') || (size >= TAIL_BYTES && ascii(tail, tail.length - TAIL_BYTES, 'conectix'))) return { diskFormat: 'vhd', what: 'VHD' };
  if (head.length >= 0x44 && head.readUInt32LE(0x40) === 0xbeda107f) return { diskFormat: 'vdi', what: 'VDI' };
  if (ascii(head, 0x8001, 'CD001')) return { diskFormat: 'iso', what: 'ISO 9660' };
  if (ascii(head, 0, 'LUKS\xba\xbe')) return { diskFormat: 'raw', what: 'a LUKS volume (stored as raw)', virtualSize: size };
  if (ascii(head, 512, 'EFI PART')) return { diskFormat: 'raw', what: 'a GPT-partitioned disk', virtualSize: size };
  if (bytes(head, 510, [0x55, 0xaa])) return { diskFormat: 'raw', what: 'an MBR-partitioned disk', virtualSize: size };
  return { diskFormat: 'raw', what: 'no known header (raw)', virtualSize: size };
}

function compressed(what: string, tool: string): NotADiskImage {
  return new NotADiskImage(`is ${what}`, `Glance stores disk images as they are: ${tool} it first and give the result`);
}

export interface ImageFile {
  path: string;
  size: number;
  detected: Detected;
}

/** Reads the start and the end of the file at `path` (never the whole of it) and detects its format. */
export function inspectImageFile(path: string): ImageFile {
  const fd = fs.openSync(path, 'r');
  try {
    const { size } = fs.fstatSync(fd);
    const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
    fs.readSync(fd, head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(TAIL_BYTES, size));
    fs.readSync(fd, tail, 0, tail.length, size - tail.length);
    return { path, size, detected: detectDiskFormat(head, tail, size) };
  } finally {
    fs.closeSync(fd);
  }
}
