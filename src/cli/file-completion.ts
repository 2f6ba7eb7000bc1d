// Shell completion of a file name after an option that takes a file (`--image <TAB>`): yargs would offer
// the options again; an empty answer makes the bash script yargs prints fall back to file names
// (`complete -o default`).

/** Options whose value is a local file (or, for --inventory, a directory too). */
const FILE_OPTIONS = new Set(['--image', '--inventory', '--identity', '--known-hosts', '--ssh-config', '-F', '--secrets', '--os-cacert', '--db-admin-password-file']);

/** Whether the word being completed is the value of a file option, from the words of a --get-yargs-completions request. */
export function completingFileValue(args: readonly string[]): boolean {
  const i = args.indexOf('--get-yargs-completions');
  if (i < 0) return false;
  // After the flag: the program's name, then the words typed so far, the last being the one completed.
  const words = args.slice(i + 2);
  return words.length >= 2 && FILE_OPTIONS.has(words[words.length - 2]!);
}
