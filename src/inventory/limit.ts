// `--limit PATTERN`, as ansible-playbook's (ansible/inventory/manager.py): patterns separated by "," (or
// by ":" when there is no comma and the whole is not one address or range), each a host name, a group
// name (its hosts and its children's), `all`, a shell glob (`web*`, `ctl?`, `[ab]*`) over both group and
// host names, or `~regex`; `&pat` keeps only hosts also in pat, `!pat` drops hosts in pat (first the plain
// patterns, then every `&`, then every `!`, whatever the order written; with only `&`/`!`, it starts from
// `all`); `pat[0]`, `pat[1:3]` pick hosts by position; `@file` reads patterns from a file, one a line.
// The result keeps inventory order. Stricter than Ansible, which only warns: a pattern that matches no
// host and no group is an error naming it (a typo must not silently narrow or widen a production run),
// and so is a limit that leaves no host.
import fs from 'node:fs';
import type { Inventory, InventoryHost } from './model.ts';
import { parseAddress } from './patterns.ts';

export class LimitError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'LimitError';
  }
}

const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/;

/** Python's fnmatch.translate: `*`, `?`, `[seq]`, `[!seq]`, matched against the whole name. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) re += '\\[';
      else {
        let body = glob.slice(i + 1, j).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        else if (body.startsWith('^')) body = '\\' + body;
        re += `[${body}]`;
        i = j;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^(?:${re})$`, 's');
}

/** Splits a --limit value into single patterns, as Ansible's split_host_pattern. */
export function splitPattern(pattern: string): string[] {
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (parseAddress(pattern)) parts = [pattern]; // an IPv6 address or web[1:3] keeps its colons
  else parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return parts.map((p) => p.trim()).filter(Boolean);
}

function matcher(expr: string): (name: string) => boolean {
  if (expr.startsWith('~')) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${expr.slice(1)})`); // Python's re.match: anchored at the start only
    } catch (e) {
      throw new LimitError(`--limit: "${expr}" is not a valid regular expression (${(e as Error).message})`, 'fix the expression after "~"');
    }
    return (n) => re.test(n);
  }
  const re = globToRegExp(expr);
  return (n) => re.test(n);
}

export function applyLimit(inv: Inventory, limit: string, cwd = process.cwd()): InventoryHost[] {
  const patterns: string[] = [];
  for (const p of splitPattern(limit)) {
    if (!p.startsWith('@')) { patterns.push(p); continue; }
    const file = p.slice(1);
    let text: string;
    try {
      text = fs.readFileSync(file.startsWith('/') ? file : `${cwd}/${file}`, 'utf8');
    } catch (e) {
      throw new LimitError(`--limit ${p}: cannot read ${file} (${(e as Error).message})`, 'give a file of host patterns, one per line, after "@"');
    }
    patterns.push(...text.split('\n').map((l) => l.trim()).filter(Boolean));
  }
  if (!patterns.length) throw new LimitError(`--limit "${limit}" names no pattern`, 'give host or group names, e.g. --limit controllers or --limit ctl1,ctl2');

  const order = new Map(inv.hosts.map((h, i) => [h.name, i]));
  const groupNames = [...inv.groups.keys()];

  const matchOne = (pattern: string): string[] => {
    let expr = pattern;
    let sub: [number, number | undefined] | undefined;
    const m = expr.startsWith('~') ? null : SUBSCRIPT.exec(expr);
    if (m) {
      expr = m[1]!;
      sub = m[2] !== undefined ? [Number(m[2]), undefined] : [Number(m[3]), m[5] ? Number(m[5]) : -1];
    }
    const test = matcher(expr);
    const found = new Set<string>();
    const groups = groupNames.filter(test);
    for (const g of groups) for (const h of inv.groups.get(g)!) found.add(h);
    if (!groups.length || expr.startsWith('~') || /[.?*[]/.test(expr)) {
      for (const h of inv.hosts) if (test(h.name)) found.add(h.name);
    }
    const result = [...found];
    if (!result.length && !groups.length) {
      const groups = groupNames.filter((g) => g !== 'all' && g !== 'ungrouped');
      const hosts = inv.hosts.slice(0, 10).map((h) => h.name).join(', ') + (inv.hosts.length > 10 ? `, … (${inv.hosts.length} in all)` : '');
      throw new LimitError(`--limit: "${pattern}" matches no host and no group of ${inv.source}`,
        groups.length ? `the groups are: ${groups.join(', ')}; the hosts: ${hosts}` : `the hosts are: ${hosts}`);
    }
    if (!sub || !result.length) return result;
    const [start, end] = sub;
    const at = (i: number) => (i < 0 ? result.length + i : i);
    if (end === undefined) {
      const h = result[at(start)];
      if (h === undefined) throw new LimitError(`--limit: "${pattern}" is past the ${result.length} host(s) of ${expr}`, 'count from 0: [0] is the first host');
      return [h];
    }
    const last = end === -1 ? result.length - 1 : end;
    const picked = result.slice(start, last + 1);
    if (!picked.length) throw new LimitError(`--limit: "${pattern}" is past the ${result.length} host(s) of ${expr}`, 'count from 0: [0:2] is the first three hosts');
    return picked;
  };

  const plain = patterns.filter((p) => p[0] !== '&' && p[0] !== '!');
  const ordered = [...(plain.length ? plain : ['all']), ...patterns.filter((p) => p[0] === '&'), ...patterns.filter((p) => p[0] === '!')];
  let selected = new Set<string>();
  for (const p of ordered) {
    if (p[0] === '!' || p[0] === '&') {
      const inner = p.slice(1);
      if (!inner) throw new LimitError(`--limit: "${p}" has nothing after "${p[0]}"`, `write ${p[0]}GROUP or ${p[0]}HOST`);
      const these = new Set(order.has(inner) ? [inner] : matchOne(inner));
      selected = new Set([...selected].filter((h) => (p[0] === '!' ? !these.has(h) : these.has(h))));
    } else {
      for (const h of order.has(p) ? [p] : matchOne(p)) selected.add(h);
    }
  }
  if (!selected.size) {
    throw new LimitError(`--limit "${limit}" leaves no host of ${inv.source}`, 'check the patterns: "!" removes hosts, "&" keeps only hosts also in that group');
  }
  return inv.hosts.filter((h) => selected.has(h.name));
}
