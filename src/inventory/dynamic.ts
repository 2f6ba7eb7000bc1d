// Inventories that are programs: an executable file is run with `--list` (Ansible's script protocol;
// `--host NAME` per host only when the output has no `_meta.hostvars`), and what Ansible alone can read
// (plugin configurations, inventory directories with group_vars/) goes through `ansible-inventory -i
// SOURCE --list` when that command is installed. Both print the same JSON, read by script-json.ts.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { InventoryError } from './errors.ts';
import { parseJsonOutput, readListJson } from './script-json.ts';
import type { Inventory } from './model.ts';

const TIMEOUT_MS = 120_000;

function run(file: string, args: string[], source: string, hint: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: env ?? process.env, maxBuffer: 256 * 1024 * 1024, timeout: TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      const cmd = [file, ...args].join(' ');
      const why = e.killed ? `did not finish in ${TIMEOUT_MS / 1000} s`
        : typeof e.code === 'number' ? `exited with ${e.code}`
        : `could not start (${e.code ?? e.message})`;
      const said = stderr.trim().split('\n').slice(-15).join('\n    ');
      reject(new InventoryError(source, undefined, `${cmd} ${why}${said ? `:\n    ${said}` : ''}`, hint));
    });
  });
}

/** Does `source` look like a program Ansible would run: executable, with a #! line? */
export function isInventoryScript(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(2);
      fs.readSync(fd, head, 0, 2, 0);
      return head.toString() === '#!';
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

export async function readScript(file: string): Promise<Inventory> {
  // An absolute path: a bare name would be looked up in PATH instead of the current directory.
  const exe = path.resolve(file);
  const hint = `run "${file} --list" yourself: it must exit 0 and print the inventory as JSON`;
  const out = await run(exe, ['--list'], file, hint);
  const data = parseJsonOutput(out, file, `the output of ${file} --list`);
  return readListJson(data, file, 'script', async (host) => {
    const text = await run(exe, ['--host', host], file, `run "${file} --host ${host}" yourself: it must print that host's vars as JSON`);
    return text.trim() ? parseJsonOutput(text, file, `the output of ${file} --host ${host}`) : {};
  });
}

/** The path of `ansible-inventory` when it is on PATH. */
export function findAnsibleInventory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'ansible-inventory');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export async function readThroughAnsible(source: string, ansibleInventory: string): Promise<Inventory> {
  // By default ansible-inventory only warns about a source it cannot parse and prints an empty inventory.
  const env = { ...process.env, ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true', ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: 'true' };
  const out = await run(ansibleInventory, ['-i', source, '--list'], source, `run "ansible-inventory -i ${source} --list" yourself to see what Ansible makes of it`, env);
  return readListJson(parseJsonOutput(out, source, 'the output of ansible-inventory --list'), source, 'ansible-inventory');
}
