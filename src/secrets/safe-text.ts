// What a secret must not hold whatever it is for: text every layer it crosses here (a JSON file, an
// environment variable, an API body, a MySQL statement, a config file, a C library) carries unchanged.
// Each layer's own limits are checked beside this (ini/oslo-value.ts, clients/mysql-password.ts).

const NAMES: Readonly<Record<number, string>> = { 0: 'a NUL byte', 10: 'a line feed', 13: 'a carriage return', 127: 'a DEL' };

/** How a control character or a lone surrogate is named in a message: "a line feed (U+000A)". Printable ones are never named: that would print part of a secret. */
function characterName(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${NAMES[code] ?? (code >= 0xd800 && code <= 0xdfff ? 'half of a UTF-16 surrogate pair' : 'a control character')} (${hex})`;
}

/**
 * Why `value` is not safe text for a secret, or undefined: empty; not valid Unicode (a lone surrogate, which
 * UTF-8 cannot encode); a NUL (C strings end there: bcrypt in Keystone, libmysqlclient); a line break (a
 * config line ends there); any other control character but a tab (invisible in every editor, and some are
 * white space that a config reader strips). Positions are counted in characters from 1; the value is never
 * quoted back.
 */
export function unsafeTextProblem(value: string): string | undefined {
  if (value === '') return 'it is empty';
  let n = 0;
  for (const ch of value) {
    n++;
    const code = ch.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) return `it is not valid Unicode: ${characterName(ch)} at character ${n}, which UTF-8 cannot encode`;
    if (code === 0) return `it holds ${characterName(ch)} at character ${n}, where C strings (bcrypt, the MySQL client library) end`;
    if (code === 10 || code === 13) return `it holds ${characterName(ch)} at character ${n}, where a line of a config file ends`;
    if ((code < 0x20 && code !== 9) || code === 0x7f || (code >= 0x80 && code < 0xa0)) return `it holds ${characterName(ch)} at character ${n}: an invisible character, refused in passwords`;
  }
  return undefined;
}
