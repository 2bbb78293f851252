import type { Client } from '@temporalio/client';
import { runTimes } from './histories.js';
import { pool, until } from './processes.js';
import { percentile, round } from './stats.js';

export interface ScheduleScenarioDeps {
  client: Client;
  base: string;
  headers: Record<string, string>;
  /** How many periodic jobs to register. */
  count: number;
  callers: number;
  /** How long to watch the 1-second schedule, each time. */
  watchSeconds: number;
}

/**
 * 6. Many periodic jobs: register `count` of them through the API (spread over the day, as real
 * retention and GC jobs would be), list them, and measure how late a 1-second schedule fires
 * before and under that load.
 */
export async function scheduleScenario(deps: ScheduleScenarioDeps): Promise<Record<string, number>> {
  const baseline = await fireSkew(deps);

  const latencies: number[] = [];
  const t0 = Date.now();
  await pool(deps.count, deps.callers, async (i) => {
    const cron = `${i % 60} ${Math.floor(i / 60) % 60} ${Math.floor(i / 3600) % 24} * * *`;
    const t = performance.now();
    const response = await fetch(`${deps.base}/jobs`, {
      method: 'POST',
      headers: deps.headers,
      body: JSON.stringify({ job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: cron } } }),
    });
    if (response.status !== 202) throw new Error(`periodic submit answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
    latencies.push(performance.now() - t);
  });
  const createSeconds = (Date.now() - t0) / 1000;

  // Listing reads visibility, which follows creation; wait until all are listed before timing it.
  const listed = async (query: string) => {
    const response = await fetch(`${deps.base}/jobs?kind=Periodic&${query}`, { headers: deps.headers });
    if (response.status !== 200) throw new Error(`list answered ${response.status}`);
    await response.arrayBuffer();
    return Number(response.headers.get('total-count'));
  };
  await until(async () => (await listed('page_size=1')) >= deps.count, 300_000, 'all periodic jobs to be listed', 1000);
  const firstPage = await timed(10, () => listed('page_size=100'));
  const deepPage = await timed(5, () => listed(`page_size=100&page_number=${Math.max(1, Math.ceil(deps.count / 100))}`));

  const loaded = await fireSkew(deps);
  return {
    periodic_jobs: deps.count,
    create_per_s: round(deps.count / createSeconds),
    create_p50_ms: round(percentile(latencies, 0.5)),
    create_p99_ms: round(percentile(latencies, 0.99)),
    list_first_page_p50_ms: round(percentile(firstPage, 0.5)),
    list_first_page_max_ms: round(Math.max(...firstPage)),
    list_last_page_p50_ms: round(percentile(deepPage, 0.5)),
    fire_skew_idle_p50_ms: baseline.p50,
    fire_skew_idle_p99_ms: baseline.p99,
    fire_jitter_idle_p99_ms: baseline.jitterP99,
    fire_skew_loaded_p50_ms: loaded.p50,
    fire_skew_loaded_p99_ms: loaded.p99,
    fire_jitter_loaded_p99_ms: loaded.jitterP99,
    job_start_skew_loaded_p50_ms: loaded.jobP50,
    job_start_skew_loaded_p99_ms: loaded.jobP99,
    fires_sampled: loaded.samples,
  };
}

async function timed(times: number, fn: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return samples;
}

/**
 * A 1-second periodic job for `watchSeconds`: how far after its nominal time (in its id) each
 * execution's workflow started, and how far its job's run started (server timestamps).
 */
async function fireSkew(deps: ScheduleScenarioDeps) {
  // Temporal's scheduler keeps the sub-second phase of the moment it was created (it sleeps from a
  // whole-second "now"), so every fire is late by that phase: create at the top of a second.
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)));
  const response = await fetch(`${deps.base}/jobs`, {
    method: 'POST',
    headers: deps.headers,
    body: JSON.stringify({ job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: '* * * * * *' } } }),
  });
  if (response.status !== 202) throw new Error(`periodic submit answered ${response.status}`);
  const { id } = ((await response.json()) as { job: { id: string } }).job;
  await new Promise((resolve) => setTimeout(resolve, deps.watchSeconds * 1000));
  const stop = await fetch(`${deps.base}/jobs/${id}`, { method: 'POST', headers: deps.headers, body: JSON.stringify({ action: 'stop' }) });
  if (stop.status !== 204) throw new Error(`stop answered ${stop.status}`);
  const query = `TemporalScheduledById = '${id}'`;
  await until(
    async () => (await deps.client.workflow.count(`${query} AND ExecutionStatus = 'Running'`)).count === 0,
    60_000,
    'executions to end',
  );
  const ids: string[] = [];
  for await (const execution of deps.client.workflow.list({ query })) ids.push(execution.workflowId);
  const times = await runTimes(deps.client, ids);
  const nominal = ids.map((executionId) => Date.parse(executionId.slice(25)));
  const toWorkflow = times.map((t, i) => t.enqueued - nominal[i]!);
  const toJob = times.flatMap((t, i) => (t.started > 0 ? [t.started - nominal[i]!] : []));
  const phase = Math.min(...toWorkflow);
  return {
    samples: ids.length,
    p50: round(percentile(toWorkflow, 0.5)),
    p99: round(percentile(toWorkflow, 0.99)),
    // Lateness beyond the schedule's own constant phase: what load adds.
    jitterP99: round(percentile(toWorkflow, 0.99) - phase),
    jobP50: round(percentile(toJob, 0.5)),
    jobP99: round(percentile(toJob, 0.99)),
  };
}
