// A small, valid qcow2 image made here (no qemu-img, no network): what the install guide's check uploads
// (a cirros qcow2), in a size that costs nothing to send. The layout follows QEMU's
// docs/interop/qcow2.txt (version 3, 16-bit refcounts, no backing file, no extensions):
//
//   cluster 0        header (104 bytes), then zeros (an end-of-extensions marker reads as type 0)
//   cluster 1        refcount table: one entry, the refcount block
//   cluster 2        refcount block: 1 for every cluster of the file
//   cluster 3…       L1 table, then one L2 table per L1 entry that maps data
//   then             the data clusters, in guest order; a guest cluster of zeros is left unallocated
//
// Every L1/L2 entry of a cluster whose refcount is 1 carries the COPIED flag (bit 63), as qemu-img check
// expects. Glance's format inspectors (Glance 21 and later) read the magic, version, size, backing file and
// incompatible features of this header: no backing file, no data file, no feature bit, version 3.

const MAGIC = 0x514649fb; // "QFI\xfb"
const HEADER_LENGTH = 104;
const COPIED = 1n << 63n;

export interface Qcow2Header {
  magic: number;
  version: number;
  backingFileOffset: bigint;
  backingFileSize: number;
  clusterBits: number;
  /** Virtual disk size in bytes. */
  size: bigint;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: bigint;
  refcountTableOffset: bigint;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: bigint;
  /** Version 3 only (0 for version 2). */
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
}

export interface Qcow2Options {
  /** log2 of the cluster size: 9 (512 bytes) to 21 (2 MiB); default 16 (64 KiB, qemu-img's default). */
  clusterBits?: number;
}

/**
 * A qcow2 image whose guest disk reads as `guest` (its length is the virtual size; a multiple of 512).
 * Only the clusters that hold a non-zero byte take room in the file.
 */
export function makeQcow2(guest: Buffer, opts: Qcow2Options = {}): Buffer {
  const clusterBits = opts.clusterBits ?? 16;
  if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) throw new RangeError(`cluster bits ${clusterBits}: qcow2 wants 9 to 21`);
  if (guest.length === 0 || guest.length % 512 !== 0) throw new RangeError(`a virtual size of ${guest.length} bytes: qcow2 wants a positive multiple of 512`);
  const cs = 1 << clusterBits;
  const l2Entries = cs / 8;
  const guestClusters = Math.ceil(guest.length / cs);
  const l1Size = Math.ceil(guestClusters / l2Entries);
  const l1Clusters = Math.ceil((l1Size * 8) / cs);

  // Which guest clusters hold data, and so which L2 tables are needed.
  const allocated: number[] = [];
  for (let g = 0; g < guestClusters; g++) {
    const slice = guest.subarray(g * cs, Math.min((g + 1) * cs, guest.length));
    if (slice.some((b) => b !== 0)) allocated.push(g);
  }
  const l2Needed = [...new Set(allocated.map((g) => Math.floor(g / l2Entries)))];

  const refcountTable = 1;
  const refcountBlock = 2;
  const l1Table = 3;
  const firstL2 = l1Table + l1Clusters;
  const firstData = firstL2 + l2Needed.length;
  const totalClusters = firstData + allocated.length;
  // One refcount block of 16-bit entries covers cs/2 clusters: plenty for an image made to be small.
  if (totalClusters > cs / 2) throw new RangeError(`${totalClusters} clusters do not fit one refcount block of ${cs / 2}: use larger clusters`);

  const file = Buffer.alloc(totalClusters * cs);
  const at = (cluster: number) => BigInt(cluster) * BigInt(cs);

  // Header (version 3, 104 bytes).
  file.writeUInt32BE(MAGIC, 0);
  file.writeUInt32BE(3, 4);
  file.writeBigUInt64BE(0n, 8); // no backing file
  file.writeUInt32BE(0, 16);
  file.writeUInt32BE(clusterBits, 20);
  file.writeBigUInt64BE(BigInt(guest.length), 24);
  file.writeUInt32BE(0, 32); // no encryption
  file.writeUInt32BE(l1Size, 36);
  file.writeBigUInt64BE(at(l1Table), 40);
  file.writeBigUInt64BE(at(refcountTable), 48);
  file.writeUInt32BE(1, 56);
  file.writeUInt32BE(0, 60); // no snapshots
  file.writeBigUInt64BE(0n, 64);
  file.writeBigUInt64BE(0n, 72); // incompatible features: none (not dirty, not corrupt, no data file)
  file.writeBigUInt64BE(0n, 80);
  file.writeBigUInt64BE(0n, 88);
  file.writeUInt32BE(4, 96); // refcount_order 4: 16-bit refcounts
  file.writeUInt32BE(HEADER_LENGTH, 100);

  // Refcounts: every cluster of the file is used exactly once.
  file.writeBigUInt64BE(at(refcountBlock), Number(at(refcountTable)));
  for (let c = 0; c < totalClusters; c++) file.writeUInt16BE(1, Number(at(refcountBlock)) + c * 2);

  // L1 → L2 → data.
  l2Needed.forEach((l1Index, i) => {
    file.writeBigUInt64BE(at(firstL2 + i) | COPIED, Number(at(l1Table)) + l1Index * 8);
  });
  allocated.forEach((g, i) => {
    const l2 = firstL2 + l2Needed.indexOf(Math.floor(g / l2Entries));
    file.writeBigUInt64BE(at(firstData + i) | COPIED, Number(at(l2)) + (g % l2Entries) * 8);
    guest.copy(file, Number(at(firstData + i)), g * cs, Math.min((g + 1) * cs, guest.length));
  });
  return file;
}

/** The header of a qcow2 image (version 2 or 3); throws when `head` does not start with one. */
export function readQcow2Header(head: Buffer): Qcow2Header {
  if (head.length < 72 || head.readUInt32BE(0) !== MAGIC) throw new Error('not a qcow2 image (no QFI\\xfb magic)');
  const version = head.readUInt32BE(4);
  const v3 = version >= 3;
  if (v3 && head.length < HEADER_LENGTH) throw new Error(`a qcow2 version ${version} header needs ${HEADER_LENGTH} bytes, got ${head.length}`);
  return {
    magic: head.readUInt32BE(0),
    version,
    backingFileOffset: head.readBigUInt64BE(8),
    backingFileSize: head.readUInt32BE(16),
    clusterBits: head.readUInt32BE(20),
    size: head.readBigUInt64BE(24),
    cryptMethod: head.readUInt32BE(32),
    l1Size: head.readUInt32BE(36),
    l1TableOffset: head.readBigUInt64BE(40),
    refcountTableOffset: head.readBigUInt64BE(48),
    refcountTableClusters: head.readUInt32BE(56),
    nbSnapshots: head.readUInt32BE(60),
    snapshotsOffset: head.readBigUInt64BE(64),
    incompatibleFeatures: v3 ? head.readBigUInt64BE(72) : 0n,
    compatibleFeatures: v3 ? head.readBigUInt64BE(80) : 0n,
    autoclearFeatures: v3 ? head.readBigUInt64BE(88) : 0n,
    refcountOrder: v3 ? head.readUInt32BE(96) : 4,
    headerLength: v3 ? head.readUInt32BE(100) : 72,
  };
}
