// Host patterns in inventory files, as Ansible reads them (ansible/parsing/utils/addresses.py and
// expand_hostname_range in ansible/plugins/inventory/__init__.py): an optional `:port` suffix, then
// ranges in square brackets expanded into host names — `web[01:03]` (zero-padded, ends inclusive),
// `db-[a:c]`, strides `[1:10:2]`, several ranges in one name. Each resulting name must be a host name or
// an IPv4/IPv6 address: where Ansible would take any word as a host, this refuses it, so a file that is
// not an inventory cannot turn into a list of hosts.
import { InventorySyntaxError } from './errors.ts';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

const numericRange = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const hexRange = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const alnumRange = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;

function addressPatterns(ranges: boolean) {
  const r = (range: string) => (ranges ? `|${range}` : '');
  const i4 = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]${r(numericRange)})`;
  const i6 = `(?:[0-9a-f]{1,4}${r(hexRange)})`;
  const label = `(?:[\\p{L}\\p{N}_]${r(alnumRange)})(?:[\\p{L}\\p{N}_-]${r(alnumRange)})*(?<![_-])`;
  const ipv6 = [
    `(?:${i6}:){7}${i6}`, `(?:${i6}:){1,6}:`, `(?:${i6}:)(?::${i6}){1,6}`, `(?:${i6}:){2}(?::${i6}){1,5}`,
    `(?:${i6}:){3}(?::${i6}){1,4}`, `(?:${i6}:){4}(?::${i6}){1,3}`, `(?:${i6}:){5}(?::${i6}){1,2}`,
    `(?:${i6}:){6}(?::${i6})`, `:(?::${i6}){1,6}`, `${i6}?::`, `(?:0:){6}(?:${i6}\\.){3}${i6}`,
    `::(?:ffff:)?(?:${i6}\\.){3}${i6}`, `(?:0:){5}ffff:(?:${i6}\\.){3}${i6}`,
  ].join('|');
  return {
    ipv4: new RegExp(`^(?:${i4}\\.){3}${i4}$`, 'i'),
    ipv6: new RegExp(`^(?:${ipv6})$`, 'i'),
    hostname: new RegExp(`^${label}(?:\\.${label})*$`, 'iu'),
  };
}
const WITH_RANGES = addressPatterns(true);
const PLAIN = addressPatterns(false);

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;

/** Is `name` (no ranges left) something SSH can connect to: a host name, an IPv4 or an IPv6 address? */
export function isHostName(name: string): boolean {
  return PLAIN.ipv4.test(name) || PLAIN.ipv6.test(name) || PLAIN.hostname.test(name);
}

/** Splits `host:port` / `[v6]:port` the way Ansible's parse_address does; undefined when it is no address. */
export function parseAddress(address: string): { host: string; port?: number } | undefined {
  let host = address;
  let port: number | undefined;
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(host);
    if (m) {
      host = m[1]!;
      port = Number(m[2]);
    }
  }
  const ok = WITH_RANGES.ipv4.test(host) || WITH_RANGES.ipv6.test(host) || WITH_RANGES.hostname.test(host);
  return ok ? { host, port } : undefined;
}

/** `db[01:03]-x[a:b]` → db01-xa, db01-xb, db02-xa, …; a name without brackets is itself. */
export function expandRanges(pattern: string): string[] {
  const open = pattern.indexOf('[');
  if (open < 0) return [pattern];
  const close = pattern.indexOf(']', open);
  if (close < 0) throw new InventorySyntaxError(`"${pattern}" has a "[" without "]"`, 'write a range as name[01:10] or name[a:f]');
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  const bounds = pattern.slice(open + 1, close).split(':');
  const hint = 'write a range as [begin:end] or [begin:end:step], e.g. web[01:10], db-[a:c], node[1:9:2]';
  if (bounds.length !== 2 && bounds.length !== 3) throw new InventorySyntaxError(`host range [${bounds.join(':')}] in "${pattern}" must be begin:end or begin:end:step`, hint);
  const beg = bounds[0] || '0';
  const end = bounds[1]!;
  const stepText = bounds[2] ?? '1';
  if (!end) throw new InventorySyntaxError(`host range in "${pattern}" has no end value`, hint);
  if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw new InventorySyntaxError(`host range step "${stepText}" in "${pattern}" must be a positive number`, hint);
  const step = Number(stepText);
  // A leading zero asks for zero padding to the width of the bounds, which must then be equally wide.
  const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
  if (width && width !== end.length) throw new InventorySyntaxError(`host range [${beg}:${end}] in "${pattern}": a zero-padded begin and its end must have the same width`, hint);
  let seq: string[];
  const ib = LETTERS.indexOf(beg);
  const ie = LETTERS.indexOf(end);
  if (ib >= 0 && ie >= 0 && /^[a-z]+$/i.test(beg + end)) {
    if (ib > ie) throw new InventorySyntaxError(`host range [${beg}:${end}] in "${pattern}" must have begin <= end`, hint);
    seq = [];
    for (let k = ib; k <= ie; k += step) seq.push(LETTERS[k]!);
  } else if (/^\d+$/.test(beg) && /^\d+$/.test(end)) {
    seq = [];
    for (let k = Number(beg); k <= Number(end); k += step) seq.push(String(k).padStart(width, '0'));
  } else {
    throw new InventorySyntaxError(`host range [${beg}:${end}] in "${pattern}" is neither numeric nor single letters`, hint);
  }
  if (!seq.length) throw new InventorySyntaxError(`host range [${beg}:${end}] in "${pattern}" is empty`, hint);
  if (seq.length > 100_000) throw new InventorySyntaxError(`host range in "${pattern}" makes ${seq.length} hosts`, 'split the range');
  return seq.flatMap((s) => expandRanges(head + s + tail));
}

/**
 * A host entry of an INI line or a YAML `hosts:` key: the host names it stands for and the port it gives
 * them (`host:2222`). Throws when it is not a host pattern.
 */
export function expandHostPattern(pattern: string): { hosts: string[]; port?: number } {
  const parsed = parseAddress(pattern);
  if (!parsed && pattern.trim().endsWith(':')) {
    throw new InventorySyntaxError(`"${pattern}" ends with ":"`, 'a host is written "name" or "name:port"; "name:" is YAML, so name the file .yml if it is a YAML inventory');
  }
  if (pattern.trim() === '---') throw new InventorySyntaxError('"---" starts a YAML document', 'name the file .yml: it is a YAML inventory, not INI');
  // Ansible expands what parse_address could not read as it is (e.g. web[:3]); the names must still be hosts.
  const hosts = expandRanges(parsed?.host ?? pattern);
  const bad = hosts.find((h) => !isHostName(h));
  if (bad !== undefined) {
    throw new InventorySyntaxError(`"${bad}" is not a host name or address`, 'a host entry is a host name, an IPv4/IPv6 address or a range like web[01:03], optionally with :port');
  }
  return { hosts, port: parsed?.port };
}
