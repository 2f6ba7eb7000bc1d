// Consecutive resources with a lane run lane beside lane (a database, an identity service and the
// packages need not wait for each other); inside a lane, and for resources without one, strictly in
// order. A lane that fails stops; the lanes beside it finish (their work is independent and done is
// done), and nothing after the group starts.
export async function runInLanes<T extends { lane?: string }>(items: readonly T[], run: (index: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length;) {
    if (!items[i]!.lane) {
      await run(i++);
      continue;
    }
    const lanes = new Map<string, number[]>();
    for (; i < items.length && items[i]!.lane; i++) lanes.set(items[i]!.lane!, [...(lanes.get(items[i]!.lane!) ?? []), i]);
    const done = await Promise.allSettled([...lanes.values()].map(async (idx) => {
      for (const j of idx) await run(j);
    }));
    const rejected = done.find((d): d is PromiseRejectedResult => d.status === 'rejected');
    if (rejected) throw rejected.reason;
  }
}
