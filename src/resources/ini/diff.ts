// A short, masked diff of a file before and after a merge: changed lines only, `-old` / `+new`, each run
// of changes headed by its `[section]`. A line holding one of our secrets is masked by its type (the
// merge marked it); a line of the existing file is masked by what it is: a password-like key's whole
// value (an old password nobody told us about), a password inside a URL. Nothing is found by searching
// for a secret's text.
import type { SecretText } from '../../secret.ts';
import { parseLines, isSensitiveKey, maskUrlPasswords, type Line } from './lines.ts';
import type { MergedIni } from './merge.ts';

export { isSensitiveKey, maskUrlPasswords };

type Op = { op: '=' | '-' | '+'; a: number; b: number };

/** Myers' diff of two token arrays; undefined when they are too far apart to be worth it. */
function myers(a: readonly unknown[], b: readonly unknown[], maxD: number): Op[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxD);
  const off = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v);
    v = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && (v[off + k - 1] as number) < (v[off + k + 1] as number)) ? (v[off + k + 1] as number) : (v[off + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      v[off + k] = x;
      if (x >= n && y >= m) {
        const ops: Op[] = [];
        let cx = n;
        let cy = m;
        for (let dd = d; dd > 0; dd--) {
          const pv = trace[dd] as Int32Array;
          const kk = cx - cy;
          const down = kk === -dd || (kk !== dd && (pv[off + kk - 1] as number) < (pv[off + kk + 1] as number));
          const pk = down ? kk + 1 : kk - 1;
          const px = pv[off + pk] as number;
          const sx = down ? px : px + 1; // where the edit of step dd lands; a snake follows it
          while (cx > sx) { cx--; cy--; ops.push({ op: '=', a: cx, b: cy }); }
          if (down) { cy--; ops.push({ op: '+', a: cx, b: cy }); } else { cx--; ops.push({ op: '-', a: cx, b: cy }); }
        }
        while (cx > 0 && cy > 0) { cx--; cy--; ops.push({ op: '=', a: cx, b: cy }); }
        return ops.reverse();
      }
    }
  }
  return undefined;
}

/** One line of the existing file, or a plain merged line, as shown: password-like values and URL passwords masked. */
function showPlain(l: Line, all: readonly Line[], sensitive: (section: string, key: string) => boolean): string {
  let text = l.raw.replace(/\r$/, '');
  if (l.kind === 'cont') {
    const owner = all[l.owner as number] as Line;
    return sensitive(owner.section as string, owner.key as string) ? `${/^\s*/.exec(text)?.[0] ?? ''}***` : maskUrlPasswords(text);
  }
  const key = l.kind === 'key' ? l.key : l.kind === 'comment' ? /^[#;][#; \t]*([A-Za-z0-9_.-]+)[ \t]*[=:]/.exec(text)?.[1] : undefined;
  if (key !== undefined && l.section !== undefined && sensitive(l.section, key)) {
    const at = text.search(/[=:]/);
    text = `${text.slice(0, at + 1)}${/[=:]\s/.test(text.slice(at, at + 2)) ? ' ' : ''}***`;
  }
  return maskUrlPasswords(text);
}

/** One key whose value changes: `from` absent for a new key, `to` absent for a removed one; masked as the lines are. */
export interface IniKeyChange {
  section: string;
  key: string;
  from?: string;
  to?: string;
}

/** The value part of a `key = value` line as shown (masked already); continuation text is kept as written. */
function shownValue(shown: string): string {
  const at = shown.search(/[=:]/);
  return at < 0 ? shown.trim() : shown.slice(at + 1).trim();
}

/** Empty when nothing changed. */
export function diffIni(before: string, after: MergedIni, sensitive: (section: string, key: string) => boolean = isSensitiveKey): string[] {
  return iniDiff(before, after, sensitive).lines;
}

/**
 * The masked diff lines, and beside them the same changes as data: one entry per key whose line (or a
 * continuation of it) is removed or added, with the value shown on each side, masked exactly as its line.
 */
export function iniDiff(before: string, after: MergedIni, sensitive: (section: string, key: string) => boolean = isSensitiveKey): { lines: string[]; keys: IniKeyChange[] } {
  if (!after.changed) return { lines: [], keys: [] };
  // The '' after a final newline is not a line.
  const la = parseLines(before);
  if (before.endsWith('\n')) la.pop();
  // The merged lines, parsed for their sections (a secret line parses by its masked form: same key, same section).
  const merged = after.lines.slice();
  if (merged[merged.length - 1] === '') merged.pop();
  const lb = parseLines(merged.map((l) => (typeof l === 'string' ? l : l.masked())).join('\n'));
  // Tokens to compare: a plain line by its text; a line holding a secret is new by construction (the
  // merge keeps a line whose value is already right), so it equals nothing.
  const a = la.map((l) => l.raw);
  const b: unknown[] = merged.map((l) => (typeof l === 'string' ? l : Symbol('secret line')));
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const ma = a.slice(pre, a.length - suf);
  const mb = b.slice(pre, b.length - suf);
  const ops = myers(ma, mb, 400) ?? [...ma.map((_, i) => ({ op: '-' as const, a: i, b: 0 })), ...mb.map((_, i) => ({ op: '+' as const, a: 0, b: i }))];

  const out: string[] = [];
  const keys = new Map<string, IniKeyChange>();
  const side = (o: '-' | '+') => (o === '-' ? 'from' : 'to');
  const entry = (section: string, key: string) => {
    const id = `${section}\0${key}`;
    let e = keys.get(id);
    if (!e) keys.set(id, (e = { section, key }));
    return e;
  };
  let context: string | undefined;
  for (const o of ops) {
    if (o.op === '=') continue;
    const index = pre + (o.op === '-' ? o.a : o.b);
    const all = o.op === '-' ? la : lb;
    const line = all[index] as Line;
    const secretLine = o.op === '+' ? (merged[index] as string | SecretText) : undefined;
    if (line.kind === 'section') context = line.section;
    else if (line.kind !== 'blank' && line.section !== undefined && line.section !== context) {
      context = line.section;
      out.push(`[${line.section}]`);
    }
    const shown = secretLine !== undefined && typeof secretLine !== 'string' ? secretLine.masked().replace(/\r$/, '') : showPlain(line, all, sensitive);
    out.push(`${o.op}${shown}`);
    if (line.kind === 'key' && line.section !== undefined) {
      const e = entry(line.section, line.key as string);
      const v = shownValue(shown);
      e[side(o.op)] = e[side(o.op)] === undefined ? v : `${e[side(o.op)]}\n${v}`;
    } else if (line.kind === 'cont') {
      // A continuation changes its key's value: the key's entry gets this line of it.
      const owner = all[line.owner as number] as Line;
      const e = entry(owner.section as string, owner.key as string);
      const ownerSecret = o.op === '+' ? merged[line.owner as number] : undefined;
      const start = () => shownValue(ownerSecret !== undefined && typeof ownerSecret !== 'string' ? ownerSecret.masked() : showPlain(owner, all, sensitive));
      e[side(o.op)] = `${e[side(o.op)] ?? start()}\n${shown.trim()}`;
    }
  }
  if (out.length === 0) out.push('~ (only line endings or the final newline differ)');
  return { lines: out, keys: [...keys.values()] };
}
