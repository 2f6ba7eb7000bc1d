// Hosts side by side, at most `forks` at a time, reports in the order the targets were given.
import type { ProfileBase } from './playbook.ts';
import type { HostReport } from './report-model.ts';
import { runHost, type RunOptions, type Target } from './run-host.ts';

export async function runHosts<S, P extends ProfileBase>(targets: readonly Target[], opts: RunOptions<S, P>, forks: number): Promise<HostReport[]> {
  const out: HostReport[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      out[i] = await runHost(targets[i]!, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(forks, targets.length)) }, worker));
  return out;
}
