// The JSON of Ansible's dynamic inventory protocol (what `script --list` and `ansible-inventory --list`
// print; ansible/plugins/inventory/script.py): a mapping of group name → either a list of hosts, or
// {hosts: [...], vars: {...}, children: [...]}, or — when none of those three keys is there — the vars
// of a host named like the group; `_meta.hostvars` maps each host to its own vars. Without `_meta`, the
// protocol asks the script `--host NAME` for each host, which the caller supplies as `hostVars`.
import { InventoryBuilder, LoopError, type Inventory, type InventoryFormat } from './model.ts';
import { InventoryError } from './errors.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON.parse with the line of the failure in the error, for output that is not JSON. */
export function parseJsonOutput(text: string, source: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    // V8 names a position for some errors only; when it does not, the usual culprit is text before the
    // JSON (a log line), so point at the first line that does not start a JSON value.
    const pos = /position (\d+)/.exec(msg);
    const offset = pos ? Number(pos[1]) : /^\s*[^\s{["\d-]/.test(text) ? text.search(/\S/) : undefined;
    const lineNo = offset === undefined ? undefined : text.slice(0, offset).split('\n').length;
    const lines = text.split('\n');
    throw new InventoryError(source, lineNo, `${what} is not JSON (${msg})`, 'an inventory script prints one JSON object for --list', lineNo ? lines[lineNo - 1]?.slice(0, 200) : text.slice(0, 200));
  }
}

export async function readListJson(
  data: unknown,
  source: string,
  format: InventoryFormat,
  hostVars?: (host: string) => Promise<unknown>,
): Promise<Inventory> {
  const bad = (what: string, hint = 'see "Developing dynamic inventory" in the Ansible docs for the --list format'): InventoryError =>
    new InventoryError(source, undefined, what, hint);
  if (!isObject(data)) throw bad(`the --list output is ${Array.isArray(data) ? 'a list' : typeof data}, not a mapping of groups`);
  const inv = new InventoryBuilder();
  const seen: string[] = [];
  let meta: Record<string, unknown> | undefined;
  const relations: [string, string][] = [];

  for (const [group, raw] of Object.entries(data)) {
    if (group === '_meta') {
      if (!isObject(raw)) throw bad('"_meta" is not a mapping');
      if ('hostvars' in raw) {
        if (!isObject(raw.hostvars)) throw bad('"_meta.hostvars" is not a mapping of host → vars');
        meta = raw.hostvars;
      }
      continue;
    }
    inv.addGroup(group);
    let body: Record<string, unknown>;
    if (!isObject(raw)) body = { hosts: raw };
    else if (!('hosts' in raw || 'vars' in raw || 'children' in raw)) body = { hosts: [group], vars: raw };
    else body = raw;
    if ('hosts' in body) {
      if (!Array.isArray(body.hosts) || body.hosts.some((h) => typeof h !== 'string' || !h)) {
        throw bad(`group "${group}" has bad data for its host list: ${JSON.stringify(body.hosts)?.slice(0, 200)}`, 'a group\'s "hosts" is a list of host names');
      }
      for (const h of body.hosts as string[]) {
        if (!seen.includes(h)) seen.push(h);
        inv.addHost(h, group);
      }
    }
    if ('vars' in body) {
      if (!isObject(body.vars)) throw bad(`group "${group}" has bad data for its vars: ${JSON.stringify(body.vars)?.slice(0, 200)}`, 'a group\'s "vars" is a mapping');
      for (const [k, v] of Object.entries(body.vars)) inv.setGroupVar(group, k, v);
    }
    if ('children' in body) {
      if (!Array.isArray(body.children) || body.children.some((c) => typeof c !== 'string' || !c)) {
        throw bad(`group "${group}" has bad data for its children: ${JSON.stringify(body.children)?.slice(0, 200)}`, 'a group\'s "children" is a list of group names');
      }
      for (const c of body.children as string[]) relations.push([group, c]);
    }
  }
  for (const [parent, child] of relations) {
    try {
      inv.addChild(parent, child);
    } catch (e) {
      if (e instanceof LoopError) throw bad(e.message, 'a group cannot contain itself, directly or through its children');
      throw e;
    }
  }
  for (const h of seen) {
    const got = meta ? (meta[h] ?? {}) : hostVars ? await hostVars(h) : {};
    if (!isObject(got)) throw bad(`the vars of host "${h}" are not a mapping: ${JSON.stringify(got)?.slice(0, 200)}`);
    for (const [k, v] of Object.entries(got)) inv.setHostVar(h, k, v);
  }
  return inv.build(source, format);
}
