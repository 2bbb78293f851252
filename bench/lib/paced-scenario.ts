import { writeFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { runTimes } from './histories.js';
import { postJobTimed } from './http-post.js';
import { paced, until } from './processes.js';
import { submitsDuringGc, type ServerGc } from './server-gc.js';
import { percentile, round } from './stats.js';

/**
 * NOOP jobs through the API at a steady rate (open loop: one every 1/rate s, whatever the answers),
 * for `seconds`: submit latency and enqueue→start without a backlog, which the burst cannot show.
 */
export async function pacedScenario(o: {
  client: Client;
  base: string;
  headers: Record<string, string>;
  taskQueue: string;
  rate: number;
  seconds: number;
  /** Write each submit's [epoch ms sent, latency ms] here, to line the tail up with other timelines (a server's gctrace). */
  dumpFile?: string;
  /** The server's collections so far (it keeps growing): the tail is told apart from them. */
  serverGcs?: readonly ServerGc[];
}) {
  const body = JSON.stringify({ job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } } });
  const total = Math.max(1, Math.round(o.rate * o.seconds));
  /** Each submit's [epoch ms sent, latency ms]. */
  const sent: [number, number][] = [];
  /** Each submit's time inside the API (Server-Timing), mostly the start call to Temporal. */
  const inApi: number[] = [];
  const ids: string[] = [];
  await paced(total, o.rate, async () => {
    const t = performance.now();
    const { id, apiMs } = await postJobTimed(`${o.base}/jobs`, o.headers, body);
    if (apiMs !== undefined) inApi.push(apiMs);
    sent.push([Math.round(performance.timeOrigin + t), performance.now() - t]);
    ids.push(id);
  });
  const latencies = sent.map(([, ms]) => ms);
  const gc = o.serverGcs ? submitsDuringGc(sent, o.serverGcs, 20) : undefined;
  if (o.dumpFile) {
    // A diagnostic: a bad path must not cost the measurement.
    try {
      writeFileSync(o.dumpFile, JSON.stringify(sent));
    } catch (err) {
      console.error(`--paced-dump: ${(err as Error).message}`);
    }
  }
  const query = `TaskQueue = '${o.taskQueue}' AND ExecutionStatus = 'Running'`;
  await until(async () => (await o.client.workflow.count(query)).count === 0, 600_000, 'the paced jobs to finish', 500);
  const times = await runTimes(o.client, ids);
  const toStart = times.map((t) => t.started - t.enqueued);
  return {
    rate_per_s: round(o.rate),
    n: total,
    submit_p50_ms: round(percentile(latencies, 0.5)),
    submit_p90_ms: round(percentile(latencies, 0.9)),
    submit_p99_ms: round(percentile(latencies, 0.99)),
    submit_p999_ms: round(percentile(latencies, 0.999)),
    submit_max_ms: round(percentile(latencies, 1)),
    // The target is p99 < 20 ms: below 1% here. Whether a miss is a smooth tail or a few stalls shows in p90 and max.
    submits_over_20ms_pct: round((100 * latencies.filter((ms) => ms >= 20).length) / latencies.length),
    // Inside the API (mostly the start call to Temporal) against the rest of the wait (the wire, the HTTP stacks, queueing for a core).
    submit_in_api_p50_ms: round(percentile(inApi, 0.5)),
    submit_in_api_p99_ms: round(percentile(inApi, 0.99)),
    enqueue_to_start_p50_ms: round(percentile(toStart, 0.5)),
    enqueue_to_start_p99_ms: round(percentile(toStart, 0.99)),
    // The embedded server's Go collections in the window (gctrace): one at its memory budget stalls
    // it for 150–200 ms, mostly in assists. "During" includes the half second after each (see
    // server-gc.ts); the share is of all submits. A diagnostic beside the p99, never instead of it.
    ...(gc
      ? {
          server_gcs: gc.collections,
          server_gc_mark_ms: round(gc.markMs),
          server_gc_assist_ms: round(gc.assistMs),
          submits_over_20ms_during_server_gc_pct: round((100 * gc.slowDuring) / latencies.length),
          submit_p99_outside_server_gc_ms: round(percentile(gc.outside, 0.99)),
        }
      : {}),
  };
}
