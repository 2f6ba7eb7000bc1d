// A remote command's output arrives in chunks cut anywhere: progress parsers want whole lines.
/** Calls `onLine` for each complete line; an unfinished last line waits for the next chunk. */
export function byLine(onLine: (line: string) => void): (chunk: string) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  };
}
