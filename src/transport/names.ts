// Host and user names as a target may have them. A name starting with `-` is an option to every command
// that takes it (ssh, ssh-keygen -R in a hint an operator pastes, sudo -u), and a name with white space or
// a control character is no DNS name or login, only a way to break a command line or forge a line of
// output. OpenSSH's ssh refuses the same from its command line (ssh.c, valid_hostname/valid_ruser since
// 9.6). Checked where each name comes from, so the refusal names that place.

/** The first character that disqualifies a name, as a phrase, with its place (from 1). */
function badCharacter(name: string): string | undefined {
  let n = 0;
  for (const ch of name) {
    n++;
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) return `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')}) at character ${n}`;
    if (/\s/u.test(ch)) return `white space at character ${n}`;
  }
  return undefined;
}

/** Why `name` cannot be a host to connect to, or undefined. */
export function hostNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.startsWith('-')) return 'it starts with "-", which ssh and every command given it would read as an option';
  const bad = badCharacter(name);
  return bad && `it holds ${bad}, which no host name has`;
}

/** Why `name` cannot be a login (an SSH user, a sudo target), or undefined. */
export function userNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.startsWith('-')) return 'it starts with "-", which ssh and sudo would read as an option';
  const bad = badCharacter(name);
  return bad && `it holds ${bad}, which no user name has`;
}

/** Why a name that only labels a host (an inventory name with ansible_host beside it) cannot be shown in reports, or undefined. */
export function labelProblem(name: string): string | undefined {
  const bad = badCharacter(name.replace(/ /g, '_'));
  return bad && `it holds ${bad}, which would forge the report's lines`;
}

/** A quoted name for a message, escapes visible: "-oProxyCommand=x", "a\u0007b". */
export function shownName(name: string): string {
  return JSON.stringify(name);
}
