// What an image check uploads: a small qcow2 made on the spot (random guest data, so a checksum match
// proves these bytes went through and not an old image's), or the operator's own file, streamed from
// disk (never held whole in memory) and hashed on the way out, md5 and sha512 at once (Glance's checksum
// and its default os_hash_algo).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { makeQcow2 } from './qcow2.ts';
import { inspectImageFile, type DiskFormat, type Detected } from './detect.ts';

export interface Digests {
  md5: string;
  sha512: string;
  /** Bytes that went through the hashes. */
  bytes: number;
}

export interface UploadSource {
  /** For people: "a generated qcow2 image" or the file's path. */
  readonly label: string;
  /** The image's name in Glance. */
  readonly name: string;
  /** Bytes to send. */
  readonly size: number;
  readonly diskFormat: DiskFormat;
  /** What its header says ("qcow2 version 3"), and whether disk_format was chosen by the operator. */
  readonly detected: Detected;
  readonly chosen: boolean;
  /** The virtual size Glance's inspection should find (qcow2: the header's; raw: the bytes), when known. */
  readonly virtualSize?: number;
  /** A fresh body for one upload; `digests()` is complete once the body has been read to its end. */
  open(): { body: Buffer | Readable; digests(): Digests };
  /** The bytes' digest with `algo` (Glance's hashing_algorithm, when not sha512); undefined when Node has no such hash. */
  hash(algo: string): Promise<string | undefined>;
}

/** The generated check image: qcow2, 1 MiB of random guest data (16 clusters of 64 KiB, 1.3 MiB of file). */
export function generatedImage(name: string, virtualSize = 1 << 20): UploadSource {
  const file = makeQcow2(crypto.randomBytes(virtualSize));
  const digest = (algo: string) => crypto.createHash(algo).update(file).digest('hex');
  return {
    label: 'a generated qcow2 image',
    name,
    size: file.length,
    diskFormat: 'qcow2',
    detected: { diskFormat: 'qcow2', what: 'qcow2 version 3', virtualSize },
    chosen: false,
    virtualSize,
    open: () => ({ body: file, digests: () => ({ md5: digest('md5'), sha512: digest('sha512'), bytes: file.length }) }),
    hash: async (algo) => (crypto.getHashes().includes(algo) ? digest(algo) : undefined),
  };
}

/**
 * The operator's image at `file`: its format told from its header (or `diskFormat` when given), read
 * from disk as it is sent. Throws NotADiskImage for a compressed or archived file.
 */
export function imageFile(file: string, diskFormat?: DiskFormat): UploadSource {
  const { size, detected } = inspectImageFile(file);
  const format = diskFormat ?? detected.diskFormat;
  const virtualSize = format === detected.diskFormat ? detected.virtualSize : undefined;
  return {
    label: file,
    name: path.basename(file),
    size,
    diskFormat: format,
    detected,
    chosen: diskFormat !== undefined,
    ...(virtualSize === undefined ? {} : { virtualSize }),
    open() {
      const md5 = crypto.createHash('md5');
      const sha512 = crypto.createHash('sha512');
      let bytes = 0;
      async function* hashed(): AsyncGenerator<Buffer> {
        for await (const chunk of fs.createReadStream(file, { highWaterMark: 64 * 1024 })) {
          const b = chunk as Buffer;
          md5.update(b);
          sha512.update(b);
          bytes += b.length;
          yield b;
        }
      }
      let done: Digests | undefined;
      return {
        body: Readable.from(hashed(), { objectMode: false }),
        digests: () => (done ??= { md5: md5.digest('hex'), sha512: sha512.digest('hex'), bytes }),
      };
    },
    async hash(algo) {
      if (!crypto.getHashes().includes(algo)) return undefined;
      const h = crypto.createHash(algo);
      for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
      return h.digest('hex');
    },
  };
}
