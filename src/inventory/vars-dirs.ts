// group_vars/ and host_vars/ beside a static inventory file, as Ansible's host_group_vars plugin reads
// them: for a group or host NAME, the first of NAME, NAME.yml, NAME.yaml, NAME.json that exists — a file,
// or a directory whose files (sorted, recursively, hidden and `~` backups skipped, only those extensions
// or none) are merged in order. Operators keep ansible_user or ansible_become there, so ignoring them would
// connect as the wrong user. A file encrypted with ansible-vault cannot be read here: it is skipped with a
// warning (its secrets are not needed to connect).
import fs from 'node:fs';
import path from 'node:path';
import { InventoryError } from './errors.ts';
import type { Vars } from './model.ts';

const EXTENSIONS = ['', '.yml', '.yaml', '.json'];

function filesIn(dir: string): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.startsWith('.') || name.endsWith('~')) continue;
    const full = path.join(dir, name);
    const ext = path.extname(name);
    const st = fs.statSync(full);
    if (st.isDirectory() && !ext) out.push(...filesIn(full));
    else if (st.isFile() && EXTENSIONS.includes(ext)) out.push(full);
  }
  return out;
}

function varsFiles(dir: string, name: string): string[] {
  for (const ext of EXTENSIONS) {
    const candidate = path.join(dir, name + ext);
    if (!fs.existsSync(candidate)) continue;
    return fs.statSync(candidate).isDirectory() ? filesIn(candidate) : [candidate];
  }
  return [];
}

function readVarsFile(file: string, warnings: string[], { parseDocument, LineCounter }: typeof import('yaml')): Vars {
  const text = fs.readFileSync(file, 'utf8');
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    warnings.push(`${file} is encrypted with ansible-vault and was not read`);
    return {};
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', lineCounter, uniqueKeys: false });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0].line ?? lineCounter.linePos(err.pos[0]).line;
    throw new InventoryError(file, line, `not valid YAML: ${err.message.split('\n')[0]}`, 'fix the YAML syntax', line ? text.split(/\r?\n/)[line - 1] : undefined);
  }
  const data = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  if (data === null || data === undefined) return {}; // Ansible ignores empty files
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new InventoryError(file, 1, 'a vars file must be a mapping of variable names to values', 'write "name: value" lines', text.split(/\r?\n/)[0]);
  }
  return data as Vars;
}

export interface DirVars {
  groups: Map<string, Vars>;
  hosts: Map<string, Vars>;
  warnings: string[];
}

/** The vars in `<dir>/group_vars` and `<dir>/host_vars` for these groups and hosts; undefined when neither directory exists. */
export async function readVarsDirs(dir: string, groups: string[], hosts: string[]): Promise<DirVars | undefined> {
  const gdir = path.join(dir, 'group_vars');
  const hdir = path.join(dir, 'host_vars');
  const isDir = (d: string) => fs.existsSync(d) && fs.statSync(d).isDirectory();
  if (!isDir(gdir) && !isDir(hdir)) return undefined;
  const yaml = await import('yaml'); // only when there are such directories (see yaml.ts)
  const warnings: string[] = [];
  const load = (d: string, names: string[]) => {
    const out = new Map<string, Vars>();
    if (!isDir(d)) return out;
    for (const n of names) {
      if (n.startsWith('/')) continue; // Ansible skips chroot-style names too
      const files = varsFiles(d, n);
      if (files.length) out.set(n, Object.assign({}, ...files.map((f) => readVarsFile(f, warnings, yaml))) as Vars);
    }
    return out;
  };
  return { groups: load(gdir, groups), hosts: load(hdir, hosts), warnings };
}
