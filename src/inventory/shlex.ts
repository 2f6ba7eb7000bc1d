// Python's shlex.split(line, comments=True) in POSIX mode, which Ansible's INI reader uses to cut a host
// line into the host pattern and its key=value words. Its quirks matter because real inventories rely on
// them: quotes are removed before the value is literal-evaluated (so ansible_port='2222' is a number),
// a '#' outside quotes ends the line even inside a word, and a backslash inside double quotes escapes
// only '"' and '\'.
import { InventorySyntaxError } from './errors.ts';

const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

export function shlexSplit(line: string): string[] {
  const tokens: string[] = [];
  let token = '';
  let inToken = false; // a token may be empty ('' or "") and still count
  let state: 'space' | 'word' | "'" | '"' | 'escape' = 'space';
  let afterEscape: 'word' | '"' = 'word';
  for (const c of line) {
    switch (state) {
      case 'space':
      case 'word':
        if (WHITESPACE.has(c)) {
          if (inToken) tokens.push(token);
          token = '';
          inToken = false;
          state = 'space';
        } else if (c === '#') {
          if (inToken) tokens.push(token);
          return tokens;
        } else if (c === "'" || c === '"') {
          state = c;
          inToken = true;
        } else if (c === '\\') {
          afterEscape = 'word';
          state = 'escape';
          inToken = true;
        } else {
          token += c;
          state = 'word';
          inToken = true;
        }
        break;
      case "'":
        if (c === "'") state = 'word';
        else token += c;
        break;
      case '"':
        if (c === '"') state = 'word';
        else if (c === '\\') {
          afterEscape = '"';
          state = 'escape';
        } else token += c;
        break;
      case 'escape':
        // In double quotes only the quote and the backslash itself can be escaped; elsewhere anything.
        if (afterEscape === '"' && c !== '"' && c !== '\\') token += '\\';
        token += c;
        state = afterEscape;
        break;
    }
  }
  if (state === "'" || state === '"') throw new InventorySyntaxError('no closing quotation', 'close the quote, or quote the whole value: key="a value with spaces"');
  if (state === 'escape') throw new InventorySyntaxError('a backslash ends the line', 'remove the trailing backslash');
  if (inToken) tokens.push(token);
  return tokens;
}
