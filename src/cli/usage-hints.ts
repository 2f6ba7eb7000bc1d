// A usage error that says what to type instead: a mistyped command or option gets the nearest known one
// ("unknown command aply: did you mean apply?"). yargs's own recommendCommands() is not used: its
// message does not name the word typed, its fixed threshold suggests "lab" for "xyz", and it knows no
// options. What the failing command knows is read from the parser at the moment of failure.
import { nearest } from './nearest.ts';

/** The command path that failed (`['lab', 'up']`), its subcommands and its option names (aliases included). */
export interface ParserState {
  path: string[];
  subcommands: string[];
  options: string[];
}

/**
 * The parser's state when it failed. yargs 17 keeps the failing command's context on the instance but
 * does not type these methods; anything unexpected yields an empty state (the message then stays yargs's).
 */
export function parserState(y: unknown): ParserState {
  try {
    const inner = (y as { getInternalMethods(): { getContext(): { commands: string[] }; getCommandInstance(): { getCommands(): string[] } } }).getInternalMethods();
    const opts = (y as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
    const options = new Set(Object.keys(opts.key));
    for (const aliases of Object.values(opts.alias ?? {})) for (const a of aliases) options.add(a);
    return { path: [...inner.getContext().commands], subcommands: [...inner.getCommandInstance().getCommands()], options: [...options].filter((o) => o !== '$0') };
  } catch {
    return { path: [], subcommands: [], options: [] };
  }
}

const dashed = (o: string) => (o.length === 1 ? `-${o}` : `--${o}`);

/** Whether `word` was typed as an option (`--word`, `--word=…`, `-w`), not as a positional argument. */
function typedAsOption(word: string, args: readonly string[]): boolean {
  return args.some((a) => a === `--${word}` || a.startsWith(`--${word}=`) || a === `--no-${word}` || (word.length === 1 && /^-[^-]/.test(a) && a.includes(word)));
}

/** yargs's message, said as the operator needs it. */
export function explainUsage(msg: string, args: readonly string[], y: unknown): string {
  const state = parserState(y);
  const m = /^Unknown arguments?: (.*)$/.exec(msg);
  if (!m) {
    return msg
      .replace(/^Arguments (\S+) and (\S+) are mutually exclusive$/, (_, a: string, b: string) => `${dashed(a)} and ${dashed(b)} cannot be given together`)
      .replace(/^Not enough arguments following: (\S+)$/, (_, a: string) => `${dashed(a)} needs a value`);
  }
  const unknown = m[1]!.split(', ').filter((w) => w !== '');
  // yargs names --some-flag twice (some-flag and someFlag): one is enough.
  const words = unknown.filter((w) => !(/[A-Z]/.test(w) && unknown.includes(w.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`))));
  return words.map((w) => {
    if (typedAsOption(w, args)) {
      const near = nearest(w, state.options.filter((o) => !/[A-Z]/.test(o)));
      // yargs names --no-wiat as wiat: said as typed, and so is the suggestion.
      const negated = !args.some((a) => a === `--${w}` || a.startsWith(`--${w}=`)) && args.some((a) => a === `--no-${w}` || a.startsWith(`--no-${w}=`));
      const as = (o: string) => (negated ? `--no-${o}` : dashed(o));
      return `unknown option ${as(w)}${near ? `: did you mean ${as(near)}?` : ''}`;
    }
    if (state.subcommands.length) {
      const near = nearest(w, state.subcommands);
      const where = state.path.length ? `${state.path.join(' ')} has no subcommand` : 'unknown command';
      return `${where} ${w}${near ? `: did you mean ${near}?` : ` (the commands: ${state.subcommands.join(', ')})`}`;
    }
    return `unexpected argument ${JSON.stringify(w)}${state.path.length ? ` for ${state.path.join(' ')}` : ''}`;
  }).join('; ');
}

/** Where to look next: `run "install-glance lab --help" for the commands`. */
export function helpPointer(y: unknown): string {
  const { path, subcommands } = parserState(y);
  return `run "install-glance ${path.map((w) => `${w} `).join('')}--help" for the ${subcommands.length ? 'commands' : 'options'}`;
}
