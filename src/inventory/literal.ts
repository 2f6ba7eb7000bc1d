// Ansible's INI reader passes every value through Python's ast.literal_eval and keeps the raw text when
// that fails: `ansible_port=2222` is the number 2222, `x=True` a boolean, `x=[1, 2]` a list, `x='a b'` a
// string, while `x=true`, `x=010`, `x=10.0.0.1` or `x=ops # note` stay text. This is the same evaluator
// for the literals inventories use: strings (prefixes r/u/b, escapes, implicit concatenation), ints
// (0x/0o/0b, underscores), floats, True/False/None, lists, tuples, sets and dicts, signed numbers, and
// Python comments after the value. Complex numbers and anything else are left as text.

export type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

class NotALiteral extends Error {}

type Tok =
  | { t: 'str'; v: string; bytes: boolean }
  | { t: 'num'; v: number }
  | { t: 'name'; v: string }
  | { t: 'op'; v: string }
  | { t: 'end' };

const NAME = /[\p{L}\p{Nl}_][\p{L}\p{N}_]*/uy;
const NUMBER = new RegExp(
  [
    '0[xX](?:_?[0-9a-fA-F])+',
    '0[oO](?:_?[0-7])+',
    '0[bB](?:_?[01])+',
    // floats: 1.5, 1., .5, 1e3, 1.5e-3 (digits may have single underscores between them)
    '(?:\\d(?:_?\\d)*)?\\.\\d(?:_?\\d)*(?:[eE][+-]?\\d(?:_?\\d)*)?',
    '\\d(?:_?\\d)*\\.(?:[eE][+-]?\\d(?:_?\\d)*)?',
    '\\d(?:_?\\d)*[eE][+-]?\\d(?:_?\\d)*',
    '[1-9](?:_?\\d)*',
    '0(?:_?0)*',
  ].map((p) => `(?:${p})`).join('|'),
  'y',
);

function unescape(body: string, raw: boolean): string {
  if (raw) return body;
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|N\{[^}]*\}|[\s\S])/g, (all, e: string) => {
    switch (e[0]) {
      case 'x': case 'u': case 'U': return String.fromCodePoint(parseInt(e.slice(1), 16));
      case 'N': throw new NotALiteral(); // named escapes: rare, not worth a table
      case '\n': return '';
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case 'a': return '\x07';
      case 'b': return '\b';
      case 'f': return '\f';
      case 'v': return '\v';
      case '\\': case "'": case '"': return e;
      default:
        if (/^[0-7]/.test(e)) return String.fromCodePoint(parseInt(e, 8));
        return all; // Python keeps unknown escapes as written
    }
  });
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\f') { i++; continue; }
    if (c === '#') break; // a comment runs to the end of the value
    const prefix = /^([rRbBuU]{0,2})(['"])/.exec(src.slice(i));
    if (prefix && /^(|r|u|b|br|rb)$/i.test(prefix[1]!) && !/^(ur|ru|ub|bu)$/i.test(prefix[1]!)) {
      const flags = prefix[1]!.toLowerCase();
      const q = prefix[2]!;
      const triple = src.startsWith(q.repeat(3), i + flags.length);
      const open = triple ? q.repeat(3) : q;
      let j = i + flags.length + open.length;
      let body = '';
      for (;;) {
        if (j >= src.length) throw new NotALiteral();
        if (src.startsWith(open, j)) break;
        if (src[j] === '\\' && j + 1 < src.length) { body += src.slice(j, j + 2); j += 2; continue; }
        if (!triple && src[j] === '\n') throw new NotALiteral();
        body += src[j++];
      }
      out.push({ t: 'str', v: unescape(body, flags.includes('r')), bytes: flags.includes('b') });
      i = j + open.length;
      continue;
    }
    NUMBER.lastIndex = i;
    const n = NUMBER.exec(src);
    if (n && (c !== '.' || /\d/.test(src[i + 1] ?? ''))) {
      const text = n[0].replace(/_/g, '');
      i += n[0].length;
      if (/^[jJ\p{L}\p{N}_.]/u.test(src[i] ?? '')) throw new NotALiteral(); // 1j, 10.0.0.1, 1abc
      let v: number;
      if (/^0[xob]/i.test(text)) v = parseInt(text.slice(2), { x: 16, o: 8, b: 2 }[text[1]!.toLowerCase() as 'x' | 'o' | 'b']);
      else v = Number(text);
      // An int past 2^53 would silently change in JavaScript: keep the text instead.
      if (!/[.eE]/.test(text) && !/^0[xob]/i.test(text) && !Number.isSafeInteger(v)) throw new NotALiteral();
      out.push({ t: 'num', v });
      continue;
    }
    NAME.lastIndex = i;
    const name = NAME.exec(src);
    if (name) { out.push({ t: 'name', v: name[0] }); i += name[0].length; continue; }
    if ('[](){},:+-'.includes(c)) { out.push({ t: 'op', v: c }); i++; continue; }
    throw new NotALiteral();
  }
  out.push({ t: 'end' });
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}
  private peek(): Tok { return this.toks[this.i]!; }
  private isOp(v: string): boolean { const t = this.peek(); return t.t === 'op' && t.v === v; }
  private expectOp(v: string): void { if (!this.isOp(v)) throw new NotALiteral(); this.i++; }

  /** The whole input: one expression, or a bare tuple `1, 2`. */
  top(): PyValue {
    const first = this.expr();
    if (!this.isOp(',')) { if (this.peek().t !== 'end') throw new NotALiteral(); return first; }
    const items = [first];
    while (this.isOp(',')) {
      this.i++;
      if (this.peek().t === 'end') break;
      items.push(this.expr());
    }
    if (this.peek().t !== 'end') throw new NotALiteral();
    return items;
  }

  private expr(): PyValue {
    const t = this.peek();
    if (t.t === 'op' && (t.v === '+' || t.v === '-')) {
      this.i++;
      const n = this.peek();
      if (n.t !== 'num') throw new NotALiteral(); // literal_eval signs numbers only, once
      this.i++;
      return t.v === '-' ? -n.v : n.v;
    }
    if (t.t === 'num') { this.i++; return t.v; }
    if (t.t === 'str') {
      let s = '';
      const bytes = t.bytes;
      while (this.peek().t === 'str') {
        const p = this.peek() as Extract<Tok, { t: 'str' }>;
        if (p.bytes !== bytes) throw new NotALiteral(); // Python refuses to mix bytes and str
        s += p.v;
        this.i++;
      }
      return s; // Ansible turns bytes into text too
    }
    if (t.t === 'name') {
      this.i++;
      if (t.v === 'True') return true;
      if (t.v === 'False') return false;
      if (t.v === 'None') return null;
      throw new NotALiteral();
    }
    if (t.t === 'op' && t.v === '[') return this.seq(']');
    if (t.t === 'op' && t.v === '(') {
      this.i++;
      if (this.isOp(')')) { this.i++; return []; }
      const first = this.expr();
      if (this.isOp(')')) { this.i++; return first; } // parentheses, not a tuple
      const items = [first];
      while (this.isOp(',')) {
        this.i++;
        if (this.isOp(')')) break;
        items.push(this.expr());
      }
      this.expectOp(')');
      return items;
    }
    if (t.t === 'op' && t.v === '{') return this.braces();
    throw new NotALiteral();
  }

  private seq(close: string): PyValue[] {
    this.i++; // the opening bracket
    const items: PyValue[] = [];
    while (!this.isOp(close)) {
      items.push(this.expr());
      if (this.isOp(',')) this.i++;
      else if (!this.isOp(close)) throw new NotALiteral();
    }
    this.i++;
    return items;
  }

  private braces(): PyValue {
    this.i++;
    if (this.isOp('}')) { this.i++; return {}; }
    const first = this.expr();
    if (this.isOp(':')) {
      const dict: Record<string, PyValue> = {};
      let key = first;
      for (;;) {
        this.expectOp(':');
        if (key !== null && typeof key === 'object') throw new NotALiteral(); // unhashable or a tuple key: no JSON form
        dict[String(key)] = this.expr();
        if (this.isOp(',')) this.i++;
        if (this.isOp('}')) { this.i++; return dict; }
        key = this.expr();
      }
    }
    // a set, kept as a list of its distinct members
    const items: PyValue[] = [first];
    for (;;) {
      if (this.isOp(',')) this.i++;
      if (this.isOp('}')) { this.i++; break; }
      items.push(this.expr());
    }
    return items.filter((v, k) => items.findIndex((w) => JSON.stringify(w) === JSON.stringify(v)) === k);
  }
}

/** `ast.literal_eval(text)` where it succeeds; `undefined` where Python would raise. */
export function literalEval(text: string): PyValue | undefined {
  try {
    return new Parser(tokenize(text.replace(/^[ \t]+/, ''))).top();
  } catch (e) {
    if (e instanceof NotALiteral) return undefined;
    throw e;
  }
}

/** A value as Ansible's INI reader keeps it: the literal when the text is one, else the text itself. */
export function iniValue(text: string): PyValue {
  const v = literalEval(text);
  return v === undefined ? text : v;
}
