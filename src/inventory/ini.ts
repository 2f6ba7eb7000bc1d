// Ansible's INI inventory (ansible/plugins/inventory/ini.py), line by line:
// - `[group]` sections hold host lines: a host pattern (ranges, `:port`) then key=value words, cut as a
//   POSIX shell would (quotes, `#` comments) and each value literal-evaluated (`x=2222` is a number);
// - `[group:vars]` holds one `key = value` per line (everything after the first `=`, literal-evaluated,
//   comments included: Ansible does not strip them there);
// - `[group:children]` names child groups, which may be declared further down but must be declared
//   somewhere (`[child]` or `[child:children]`), as must a group that only has `[group:vars]`;
// - lines before any section are `ungrouped` hosts; blank lines and lines starting with `#` or `;` are
//   skipped; any line ending (\n, \r\n, \r) is accepted.
// Anything else is refused with its line number: a stray word, a key without `=`, an unknown section type.
import { InventoryBuilder, LoopError, type Inventory } from './model.ts';
import { shlexSplit } from './shlex.ts';
import { iniValue } from './literal.ts';
import { expandHostPattern } from './patterns.ts';
import { InventoryError, InventorySyntaxError } from './errors.ts';

const SECTION = /^\[([^:\]\s]+)(?::([\p{L}\p{N}_]+))?\]\s*(?:#.*)?$/u;
const SECTION_WITH_TRAILER = /^\[([^:\]\s]+)(?::([\p{L}\p{N}_]+))?\]\s*(.*)$/u;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;
// Python's str.splitlines() boundaries.
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/;

export function parseIni(text: string, source: string): Inventory {
  const inv = new InventoryBuilder();
  const declared = new Set(['all', 'ungrouped']);
  const varsSections: { group: string; line: number; text: string }[] = [];
  const children: { parent: string; child: string; line: number; text: string }[] = [];
  let group = 'ungrouped';
  let state = 'hosts';
  const lines = text.replace(/^\uFEFF/, '').split(LINE_BREAK);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    const fail = (what: string, hint: string): never => {
      throw new InventoryError(source, lineNo, what, hint, raw);
    };
    if (!line || line.startsWith('#') || line.startsWith(';')) return;

    const section = SECTION.exec(line);
    if (section) {
      group = section[1]!;
      state = section[2] ?? 'hosts';
      if (!['hosts', 'children', 'vars'].includes(state)) {
        fail(`section [${group}:${state}] has an unknown type "${state}"`, 'a section is [group], [group:vars] or [group:children]');
      }
      inv.addGroup(group);
      if (state !== 'vars') declared.add(group);
      else varsSections.push({ group, line: lineNo, text: raw });
      return;
    }
    const trailer = SECTION_WITH_TRAILER.exec(line);
    if (trailer && !/^:\d+(\s|$)/.test(trailer[3]!)) {
      fail('text after a section header', 'only a "#" comment may follow [group] on its line');
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      fail(`invalid section header "${line}"`, 'a section header is [group], [group:vars] or [group:children], with no spaces inside the brackets');
    }

    try {
      if (state === 'hosts') {
        const [pattern, ...words] = shlexSplit(line);
        if (pattern === undefined) return; // only a comment after all
        const { hosts, port } = expandHostPattern(pattern);
        const vars = words.map((w) => {
          const eq = w.indexOf('=');
          if (eq <= 0) {
            throw new InventorySyntaxError(
              `expected key=value after the host name, got "${w}"`,
              'a host line is "name key=value …"; quote a value that has spaces: key="a b"',
            );
          }
          return [w.slice(0, eq), iniValue(w.slice(eq + 1))] as const;
        });
        for (const h of hosts) {
          inv.addHost(h, group, port);
          for (const [k, v] of vars) inv.setHostVar(h, k, v);
        }
      } else if (state === 'vars') {
        const eq = line.indexOf('=');
        if (eq < 0) fail(`expected key=value in [${group}:vars], got "${line}"`, 'a [group:vars] line is "key = value", one per line');
        const key = line.slice(0, eq).trim();
        if (!key) fail(`no variable name before "=" in [${group}:vars]`, 'a [group:vars] line is "key = value", one per line');
        inv.setGroupVar(group, key, iniValue(line.slice(eq + 1).trim()));
      } else {
        const m = GROUP_NAME.exec(line);
        if (!m) fail(`expected a group name in [${group}:children], got "${line}"`, 'a [group:children] section lists one group name per line');
        children.push({ parent: group, child: m![1]!, line: lineNo, text: raw });
      }
    } catch (e) {
      if (e instanceof InventoryError) throw e;
      if (e instanceof InventorySyntaxError) throw new InventoryError(source, lineNo, e.message, e.hint, raw);
      if (e instanceof Error) fail(e.message, 'fix the line');
      throw e;
    }
  });

  for (const c of children) {
    if (!declared.has(c.child)) {
      throw new InventoryError(source, c.line, `[${c.parent}:children] names the group "${c.child}", which is not declared anywhere`, `add a [${c.child}] section (it may be empty) or remove the line`, c.text);
    }
    try {
      inv.addChild(c.parent, c.child);
    } catch (e) {
      if (e instanceof LoopError) throw new InventoryError(source, c.line, e.message, 'a group cannot contain itself, directly or through its children', c.text);
      throw e;
    }
  }
  for (const v of varsSections) {
    if (!declared.has(v.group)) {
      throw new InventoryError(source, v.line, `[${v.group}:vars] is for a group that is not declared anywhere`, `add a [${v.group}] section (it may be empty), or fix the group name`, v.text);
    }
  }
  return inv.build(source, 'ini');
}
