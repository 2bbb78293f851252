/**
 * The embedded server's garbage collections, from Go's `GODEBUG=gctrace=1` lines, so the paced
 * scenario can say which slow submits were in flight while the server collected. Go prints a
 * line as a cycle's mark ends; its clock figures give how long the cycle ran before that.
 */
export interface ServerGc {
  /** Epoch ms the cycle began (the line's arrival less its clock time). */
  startMs: number;
  /** Epoch ms the line arrived: the end of marking. */
  endMs: number;
  /** Wall time of the concurrent mark phase. */
  markMs: number;
  /** CPU the server's own goroutines spent helping the collector (assists), which is what stalls requests. */
  assistMs: number;
  heapBeforeMb: number;
  liveMb: number;
}

// gc 1 @75.023s 0%: 0.21+149+0.013 ms clock, 0.43+188/80/23+0.026 ms cpu, 1829->1829->117 MB, 1825 MB goal, ...
const GC_LINE =
  /\bgc \d+ @[\d.]+s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock, [\d.]+\+([\d.]+)\/[\d.]+\/[\d.]+\+[\d.]+ ms cpu, (\d+)->\d+->(\d+) MB/;

/** One gctrace line as it arrived at `arrivedAtMs`; undefined for any other line. */
export function parseGcLine(line: string, arrivedAtMs: number): ServerGc | undefined {
  const m = GC_LINE.exec(line);
  if (!m) return undefined;
  const [sweepTerm, mark, markTerm, assist, before, live] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return {
    startMs: arrivedAtMs - (sweepTerm + mark + markTerm),
    endMs: arrivedAtMs,
    markMs: mark,
    assistMs: assist,
    heapBeforeMb: before,
    liveMb: live,
  };
}

/** Collects the server's collections from its output lines; `also` still gets every line. */
export function serverGcRecorder(also?: (line: string) => void): { log: (line: string) => void; collections: ServerGc[] } {
  const collections: ServerGc[] = [];
  return {
    collections,
    log: (line) => {
      const gc = parseGcLine(line, Date.now());
      if (gc) collections.push(gc);
      also?.(line);
    },
  };
}

/** GODEBUG asking Go for a line per collection, keeping the operator's other settings. */
export function withGcTrace(godebug: string | undefined): string {
  const rest = (godebug ?? '').split(',').filter((s) => s && !s.startsWith('gctrace='));
  return [...rest, 'gctrace=1'].join(',');
}

/**
 * How long after a collection's mark ends its effect still shows: the requests it held up drain and
 * the server sweeps the heap it just marked. In a paced minute, the slow submits of a 150 ms stall
 * ran on for about 0.4 s after it (7 in flight during the mark, 20 counting the 0.5 s after).
 */
export const GC_AFTERMATH_MS = 500;

/**
 * Submits set against the collections in their window: which were in flight while one ran or in
 * the aftermath (sent before that ended, answered after the collection began), and the tail of the others.
 */
export function submitsDuringGc(sent: readonly (readonly [number, number])[], collections: readonly ServerGc[], slowMs: number) {
  if (sent.length === 0) return undefined;
  // Submits are recorded as they complete, not as they are sent: the window is their earliest send to their last answer.
  const from = Math.min(...sent.map(([at]) => at));
  const to = Math.max(...sent.map(([at, ms]) => at + ms));
  const inWindow = collections.filter((gc) => gc.endMs >= from && gc.startMs <= to);
  const during = (at: number, ms: number) => inWindow.some((gc) => at <= gc.endMs + GC_AFTERMATH_MS && at + ms >= gc.startMs);
  const outside: number[] = [];
  let slowDuring = 0;
  for (const [at, ms] of sent) {
    if (during(at, ms)) {
      if (ms >= slowMs) slowDuring += 1;
    } else outside.push(ms);
  }
  return {
    collections: inWindow.length,
    markMs: inWindow.reduce((s, gc) => s + gc.markMs, 0),
    assistMs: inWindow.reduce((s, gc) => s + gc.assistMs, 0),
    slowDuring,
    outside,
  };
}
