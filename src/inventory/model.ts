// The inventory every reader fills in and the CLI consumes, with Ansible's rules for what a host ends up
// with (ansible/inventory/data.py, group.py, helpers.py):
// - `all` holds every group that has no parent; a host in no group but `all` is in `ungrouped`, and a host
//   that is in another group is not in `ungrouped`.
// - A group's depth is its longest distance from `all`. A host's vars are its groups' vars (every group it
//   is in, directly or through a child group) merged in the order (depth, ansible_group_priority, name) —
//   so `all` < parent < child, and between groups of the same depth the higher priority, then the later
//   name, wins — and then its own vars on top.
// - A child group may not be its own ancestor.

export type Vars = Record<string, unknown>;

export type InventoryFormat = 'ini' | 'yaml' | 'script' | 'ansible-inventory';

export interface InventoryHost {
  name: string;
  /** Effective vars: group vars merged by Ansible's precedence, then the host's own. */
  vars: Vars;
  /** The vars set on the host itself (host line, `hosts:` entry, `_meta.hostvars`). */
  ownVars: Vars;
  /** Every group the host is in, directly or through children, `all` included, in precedence order. */
  groups: string[];
}

export interface Inventory {
  source: string;
  format: InventoryFormat;
  /** In the order the source first names them. */
  hosts: InventoryHost[];
  /** Group name → its hosts (its own and its descendants'), in host order. */
  groups: Map<string, string[]>;
  /** Group name → the vars set on that group itself. */
  groupVars: Map<string, Vars>;
  /** What was read but not used, for the operator to see (e.g. a vault-encrypted group_vars file). */
  warnings: string[];
}

/** Vars from group_vars/ and host_vars/ beside the inventory, by group and host name. */
export interface ExtraVars {
  groups: Map<string, Vars>;
  hosts: Map<string, Vars>;
}

/**
 * A host's vars by Ansible's precedence (vars/manager.py): `all` from the inventory, group_vars/all, the
 * other groups from the inventory (in `groups` order), their group_vars/ files, the host's own vars, its
 * host_vars/ file. Later wins, a key replaced whole (hash_behaviour=replace).
 */
export function effectiveVars(host: string, groups: string[], groupVars: Map<string, Vars>, ownVars: Vars, extra?: ExtraVars): Vars {
  const vars: Vars = {};
  const others = groups.filter((g) => g !== 'all');
  merge(vars, groupVars.get('all') ?? {});
  merge(vars, extra?.groups.get('all') ?? {});
  for (const g of others) merge(vars, groupVars.get(g) ?? {});
  for (const g of others) merge(vars, extra?.groups.get(g) ?? {});
  merge(vars, ownVars);
  merge(vars, extra?.hosts.get(host) ?? {});
  return vars;
}

interface Group {
  name: string;
  vars: Vars;
  priority: number;
  hosts: string[];
  children: string[];
  parents: string[];
}

interface Host {
  name: string;
  vars: Vars;
  groups: string[];
}

/** Sets a key as data, even one named __proto__ (a plain assignment would change the object's prototype). */
function put(target: Vars, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Ansible's default hash_behaviour=replace: a later source replaces a key whole, dicts included. */
function merge(target: Vars, source: Vars): void {
  for (const [k, v] of Object.entries(source)) put(target, k, v);
}

export class LoopError extends Error {}

export class InventoryBuilder {
  private readonly groups = new Map<string, Group>();
  private readonly hosts = new Map<string, Host>();

  constructor() {
    this.addGroup('all');
    this.addGroup('ungrouped');
    this.addChild('all', 'ungrouped');
  }

  hasGroup(name: string): boolean {
    return this.groups.has(name);
  }

  addGroup(name: string): void {
    if (!this.groups.has(name)) this.groups.set(name, { name, vars: {}, priority: 1, hosts: [], children: [], parents: [] });
  }

  /** Adds the host (a port given with it, `host:2222`, becomes its ansible_port when the host is new). */
  addHost(name: string, group?: string, port?: number): void {
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, vars: port !== undefined ? { ansible_port: port } : {}, groups: [] };
      this.hosts.set(name, h);
    }
    if (group !== undefined) {
      this.addGroup(group);
      const g = this.groups.get(group)!;
      if (!g.hosts.includes(name)) {
        g.hosts.push(name);
        h.groups.push(group);
      }
    }
  }

  setGroupVar(group: string, key: string, value: unknown): void {
    this.addGroup(group);
    const g = this.groups.get(group)!;
    if (key === 'ansible_group_priority') {
      const p = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
      if (!Number.isInteger(p)) throw new Error(`ansible_group_priority of group ${group} must be an integer, not ${JSON.stringify(value)}`);
      g.priority = p;
    } else {
      put(g.vars, key, value);
    }
  }

  setHostVar(host: string, key: string, value: unknown): void {
    this.addHost(host);
    put(this.hosts.get(host)!.vars, key, value);
  }

  private ancestors(group: string, seen = new Set<string>()): Set<string> {
    for (const p of this.groups.get(group)?.parents ?? []) {
      if (!seen.has(p)) {
        seen.add(p);
        this.ancestors(p, seen);
      }
    }
    return seen;
  }

  /** Makes `child` a child group of `parent`; throws LoopError when that would make a cycle. */
  addChild(parent: string, child: string): void {
    this.addGroup(parent);
    this.addGroup(child);
    const p = this.groups.get(parent)!;
    const c = this.groups.get(child)!;
    if (parent === child || this.ancestors(parent).has(child)) {
      throw new LoopError(`making ${child} a child of ${parent} creates a loop (${child} is already an ancestor of ${parent})`);
    }
    if (!p.children.includes(child)) p.children.push(child);
    if (!c.parents.includes(parent)) c.parents.push(parent);
  }

  build(source: string, format: InventoryFormat): Inventory {
    for (const g of this.groups.values()) if (g.name !== 'all' && !g.parents.length) this.addChild('all', g.name);
    const ungrouped = this.groups.get('ungrouped')!;
    for (const h of this.hosts.values()) {
      const others = h.groups.filter((g) => g !== 'all' && g !== 'ungrouped');
      if (others.length && h.groups.includes('ungrouped')) {
        ungrouped.hosts = ungrouped.hosts.filter((n) => n !== h.name);
        h.groups = h.groups.filter((g) => g !== 'ungrouped');
      } else if (!others.length && !h.groups.includes('ungrouped')) {
        ungrouped.hosts.push(h.name);
        h.groups.push('ungrouped');
      }
    }

    const depths = new Map<string, number>();
    const depth = (name: string): number => {
      let d = depths.get(name);
      if (d === undefined) {
        const parents = this.groups.get(name)!.parents;
        d = parents.length ? 1 + Math.max(...parents.map(depth)) : 0;
        depths.set(name, d);
      }
      return d;
    };
    // Python compares names by code point; localeCompare would not.
    const byPrecedence = (a: Group, b: Group) =>
      depth(a.name) - depth(b.name) || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

    const groupVars = new Map([...this.groups.values()].map((g) => [g.name, g.vars]));
    const hosts: InventoryHost[] = [...this.hosts.values()].map((h) => {
      const all = new Set<string>();
      for (const g of h.groups) {
        all.add(g);
        for (const a of this.ancestors(g)) all.add(a);
      }
      const sorted = [...all].map((n) => this.groups.get(n)!).sort(byPrecedence).map((g) => g.name);
      return { name: h.name, vars: effectiveVars(h.name, sorted, groupVars, h.vars), ownVars: h.vars, groups: sorted };
    });

    const members = new Map<string, string[]>();
    for (const g of this.groups.keys()) members.set(g, []);
    for (const h of hosts) for (const g of h.groups) members.get(g)!.push(h.name);
    return { source, format, hosts, groups: members, groupVars, warnings: [] };
  }
}
