// `--inventory FILE` → one Inventory, whatever the file is:
// - an executable file starting with `#!`: a dynamic inventory, run with --list (dynamic.ts);
// - a directory, or a YAML plugin configuration (`plugin: …`): through `ansible-inventory --list` when it
//   is installed, else refused with how to export it;
// - otherwise a static file: YAML (by its .yml/.yaml/.json name, or when its first line reads as YAML:
//   `---`, `key:`, `{`, `- `) or else Ansible INI; with group_vars/ and host_vars/ beside it applied.
// A file that is none of these — a shell script, a playbook, JSON of another shape — is refused with the
// line the reader choked on; it is never read as a list of hosts.
import fs from 'node:fs';
import path from 'node:path';
import { InventoryError } from './errors.ts';
import { parseIni } from './ini.ts';
import { parseYaml, PluginConfigError } from './yaml.ts';
import { findAnsibleInventory, isInventoryScript, readScript, readThroughAnsible } from './dynamic.ts';
import { readVarsDirs } from './vars-dirs.ts';
import { effectiveVars, type Inventory } from './model.ts';

export type { Inventory, InventoryHost, Vars } from './model.ts';
export { InventoryError } from './errors.ts';
export { applyLimit, LimitError } from './limit.ts';

export interface LoadOptions {
  /** Path of ansible-inventory; default: looked up in PATH; null: never use it. */
  ansibleInventory?: string | null;
}

const YAML_LINE = /^(?:---|%YAML|\{|- |-$|("[^"]*"|'[^']*'|[^\s=#;[][^=]*?):(?:\s|$))/;

/** 'yaml' or 'ini', from the file's name or else its first line that is not blank or a comment. */
export function detectFormat(file: string, text: string): 'yaml' | 'ini' {
  if (/\.(ya?ml|json)$/i.test(file)) return 'yaml';
  for (const raw of text.split(/\r\n|\n|\r/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    return YAML_LINE.test(line) ? 'yaml' : 'ini';
  }
  return 'ini';
}

function viaAnsible(file: string, opts: LoadOptions, what: string, why: InventoryError | undefined): Promise<Inventory> {
  const exe = opts.ansibleInventory === null ? undefined : (opts.ansibleInventory ?? findAnsibleInventory());
  if (exe) return readThroughAnsible(file, exe);
  if (why) throw why;
  throw new InventoryError(file, undefined, `${what}, which only Ansible can read, and ansible-inventory is not installed`,
    `install ansible-core (apt-get install ansible-core), or export it once: ansible-inventory -i ${file} --list --yaml > inventory.yml`);
}

export async function loadInventory(file: string, opts: LoadOptions = {}): Promise<Inventory> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new InventoryError(file, undefined, `cannot read the inventory: ${(e as Error).message}`, 'check the path given to --inventory');
  }
  if (st.isDirectory()) return viaAnsible(file, opts, 'this is an inventory directory', undefined);
  if (isInventoryScript(file)) return readScript(file);

  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InventoryError(file, undefined, `cannot read the inventory: ${(e as Error).message}`, 'check the path and its permissions');
  }
  const first = text.split(/\r\n|\n|\r/, 1)[0] ?? '';
  if (/^#!\s*\//.test(first)) {
    throw new InventoryError(file, 1, 'this is a script (a #! line) and it is not executable', `to use it as a dynamic inventory, make it executable (chmod +x ${file}); it must print the inventory as JSON for --list`, first);
  }

  let inv: Inventory;
  try {
    inv = detectFormat(file, text) === 'yaml' ? await parseYaml(text, file) : parseIni(text, file);
  } catch (e) {
    if (e instanceof PluginConfigError) return viaAnsible(file, opts, 'this is an inventory plugin configuration', e);
    throw e;
  }

  const dirVars = await readVarsDirs(path.dirname(path.resolve(file)), [...inv.groups.keys()], inv.hosts.map((h) => h.name));
  if (!dirVars) return inv;
  return {
    ...inv,
    hosts: inv.hosts.map((h) => ({ ...h, vars: effectiveVars(h.name, h.groups, inv.groupVars, h.ownVars, dirVars) })),
    warnings: [...inv.warnings, ...dirVars.warnings],
  };
}
