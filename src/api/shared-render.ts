/**
 * A render shared by its callers: calls while one is in flight get that one, and a result is
 * reused for `ttlMs` after it came. `/metrics` is open, as Prometheus scrapes it, and each render
 * reads Temporal (counts per job type, a batch job's executions and children): a flood of scrapes
 * must not become a flood of visibility queries. A failed render is not kept.
 */
export function sharedRender(render: () => Promise<string>, ttlMs: number, now: () => number = Date.now): () => Promise<string> {
  let kept: { at: number; text: Promise<string> } | undefined;
  return () => {
    if (kept && (kept.at === Infinity || now() - kept.at < ttlMs)) return kept.text;
    const entry: { at: number; text: Promise<string> } = { at: Infinity, text: render() };
    kept = entry;
    entry.text.then(
      () => {
        entry.at = now();
      },
      () => {
        if (kept === entry) kept = undefined;
      },
    );
    return entry.text;
  };
}
