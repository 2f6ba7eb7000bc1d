// POSIX shell quoting for argv sent over SSH: the remote side always runs a shell on the command line.
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quote(arg: string): string {
  if (arg === '') return "''";
  return SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function quoteArgv(argv: string[]): string {
  return argv.map(quote).join(' ');
}
