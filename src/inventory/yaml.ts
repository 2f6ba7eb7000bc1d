// Ansible's YAML inventory (ansible/plugins/inventory/yaml.py): the top level is a mapping of groups; a
// group is empty or a mapping with `hosts:` (host pattern → its vars), `children:` (group name → the same
// shape, recursively) and `vars:`. Read with YAML 1.1 rules, as PyYAML reads it for Ansible (`yes` is
// true, `0644` octal), through the `yaml` package. Where Ansible only warns (a group that is not a
// mapping, a key other than hosts/children/vars), this refuses, with the line: a playbook, a compose file
// or a typo (`host:`) must not come out as an inventory with fewer or no hosts.
import type { Document, Node } from 'yaml';
import { InventoryBuilder, LoopError, type Inventory } from './model.ts';
import { expandHostPattern } from './patterns.ts';
import { InventoryError, InventorySyntaxError } from './errors.ts';

/** A YAML file that configures an inventory plugin (`plugin: openstack.cloud.openstack`): only Ansible can run it. */
export class PluginConfigError extends InventoryError {}

type Path = unknown[];

function kind(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map) return 'a mapping';
  return `a ${typeof v} (${JSON.stringify(v)})`;
}

/** Maps (kept as Map to see key types) back to plain objects for vars. */
function plain(v: unknown): unknown {
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) Object.defineProperty(o, String(k), { value: plain(x), enumerable: true, writable: true, configurable: true });
    return o;
  }
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

export async function parseYaml(text: string, source: string): Promise<Inventory> {
  // Loaded here, not at the top: a bundled CLI would otherwise load the YAML library on every run.
  const { parseDocument, LineCounter, isMap, isScalar } = await import('yaml');
  const lineCounter = new LineCounter();
  const lines = text.split(/\r\n|\n|\r/);
  const doc = parseDocument(text, { version: '1.1', lineCounter, uniqueKeys: false, prettyErrors: false });
  const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
  const at = (line: number | undefined, what: string, hint: string): InventoryError =>
    new InventoryError(source, line, what, hint, line ? lines[line - 1] : undefined);

  const firstError = doc.errors[0];
  if (firstError) throw at(firstError.linePos?.[0].line ?? lineOf(firstError.pos[0]), `not valid YAML: ${firstError.message.split('\n')[0]}`, 'fix the YAML syntax (indentation, a ":" after each key)');

  // The line of the node at `path`, or of its nearest ancestor that has one (merged keys have none).
  const lineAt = (path: Path): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = (n ? doc.getIn(path.slice(0, n), true) : doc.contents) as Node | null | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) {
        // For a pair's value, the key's line reads better: find the key node in the parent mapping.
        if (n) {
          const parent = (n > 1 ? doc.getIn(path.slice(0, n - 1), true) : doc.contents) as unknown;
          if (isMap(parent)) {
            const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[n - 1]);
            if (pair && isScalar(pair.key) && pair.key.range) return lineOf(pair.key.range[0]);
          }
        }
        return lineOf(node.range[0]);
      }
    }
    return undefined;
  };

  const data = (doc as Document).toJS({ mapAsMap: true, maxAliasCount: 1000 }) as unknown;
  if (data === null || data === undefined) throw at(undefined, 'the YAML file is empty', 'an inventory starts with "all:" and lists hosts: under it');
  if (!(data instanceof Map)) {
    throw at(lineAt([]), `the top level is ${kind(data)}, not groups`, 'a YAML inventory is a mapping of groups: "all:" with hosts:, children: and vars: under it (a playbook is not an inventory)');
  }
  if (data.has('plugin')) {
    const plugin = data.get('plugin');
    throw new PluginConfigError(source, lineAt(['plugin']), `this is a configuration for the inventory plugin ${JSON.stringify(plugin)}, not an inventory`,
      `install ansible-core so that install-glance can read it through "ansible-inventory -i ${source} --list", or export it once: ansible-inventory -i ${source} --list --yaml > inventory.yml`,
      lines[(lineAt(['plugin']) ?? 1) - 1]);
  }

  if (data.has('_meta')) {
    throw at(lineAt(['_meta']), 'this is the --list output of a dynamic inventory (it has "_meta"), not a static inventory',
      `give --inventory the script itself (executable, printing this JSON for --list), or convert it once: ansible-inventory -i SCRIPT --list --yaml > inventory.yml`);
  }
  const inv = new InventoryBuilder();
  const groupHint = 'a group is a mapping with hosts:, children: and vars: under it (or empty)';

  const parseGroup = (name: unknown, body: unknown, path: Path): string => {
    if (typeof name !== 'string' || !name) throw at(lineAt(path), `a group name must be text, not ${kind(name)}`, 'quote the group name');
    if (body !== null && !(body instanceof Map)) throw at(lineAt(path), `group "${name}" is ${kind(body)}, not a group`, groupHint);
    inv.addGroup(name);
    if (!body) return name;
    for (const [key, raw] of body as Map<unknown, unknown>) {
      const here = [...path, key];
      if (key !== 'hosts' && key !== 'children' && key !== 'vars') {
        throw at(lineAt(here), `unexpected key ${JSON.stringify(key)} in group "${name}"`, `only hosts:, children: and vars: go under a group${key === 'host' ? ' (did you mean hosts:?)' : ''}`);
      }
      // Ansible accepts a lone string for a section: `hosts: web1` is `hosts: {web1: }`.
      const section = typeof raw === 'string' ? new Map([[raw, null]]) : raw;
      if (section === null || section === undefined) continue;
      if (!(section instanceof Map)) {
        throw at(lineAt(here), `"${key}" of group "${name}" is ${kind(section)}, it must be a mapping`,
          key === 'hosts' ? 'write hosts as a mapping: "hosts:" then "  web1:" on the next lines (a "- web1" list is not read)' : groupHint);
      }
      for (const [item, value] of section as Map<unknown, unknown>) {
        const itemPath = [...here, item];
        if (key === 'vars') {
          if (typeof item !== 'string') throw at(lineAt(itemPath), `variable name ${kind(item)} in group "${name}" is not text`, 'quote the variable name');
          try {
            inv.setGroupVar(name, item, plain(value));
          } catch (e) {
            throw at(lineAt(itemPath), (e as Error).message, 'fix the value');
          }
        } else if (key === 'children') {
          const child = parseGroup(item, value, itemPath);
          try {
            inv.addChild(name, child);
          } catch (e) {
            if (e instanceof LoopError) throw at(lineAt(itemPath), e.message, 'a group cannot contain itself, directly or through its children');
            throw e;
          }
        } else {
          if (typeof item !== 'string') {
            throw at(lineAt(itemPath), `host ${kind(item)} in group "${name}" is not text`, 'quote host names that YAML reads as numbers or booleans');
          }
          let expanded: { hosts: string[]; port?: number };
          try {
            expanded = expandHostPattern(item);
          } catch (e) {
            if (e instanceof InventorySyntaxError) throw at(lineAt(itemPath), e.message, e.hint);
            throw e;
          }
          if (value !== null && value !== undefined && !(value instanceof Map)) {
            throw at(lineAt(itemPath), `host "${item}" has ${kind(value)} where its vars go`, 'a host is "name:" followed by its vars as a mapping (or nothing)');
          }
          for (const h of expanded.hosts) {
            inv.addHost(h, name, expanded.port);
            for (const [k, v] of (value as Map<unknown, unknown> | null) ?? []) {
              if (typeof k !== 'string') throw at(lineAt([...itemPath, k]), `variable name ${kind(k)} of host "${item}" is not text`, 'quote the variable name');
              inv.setHostVar(h, k, plain(v));
            }
          }
        }
      }
    }
    return name;
  };

  for (const [name, body] of data) parseGroup(name, body, [name]);
  return inv.build(source, 'yaml');
}
