import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../src/process/free-port.js';
import { runTimes } from './histories.js';
import { submitJob } from './api-jobs.js';
import { drained, latencyMetrics, submitAll } from './burst.js';
import { pool, spawnNode, stop, until } from './processes.js';
import { round } from './stats.js';

export interface StartScenarioOptions {
  dir: string;
  n: number;
  callers: number;
  secret: string;
  /** Runs per setting, interleaved (on, off, on, off, …), so drift on the machine hits both alike. */
  rounds: number;
}

/**
 * The NOOP burst through `npm start` itself (embedded server, API and worker in one process on one
 * native connection), with eager workflow start on and off: what eager start buys where it applies.
 */
export async function startScenario(options: StartScenarioOptions): Promise<Record<string, number>> {
  const runs: Record<'on' | 'off', { rate: number; p99: number; eager: number; toStart: number }[]> = { on: [], off: [] };
  for (let round_ = 0; round_ < options.rounds; round_++) {
    for (const eager of [true, false]) {
      runs[eager ? 'on' : 'off'].push(await oneRun(options, eager, `${round_}-${eager ? 'on' : 'off'}`));
    }
  }
  const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / xs.length);
  const on = runs.on;
  const off = runs.off;
  return {
    n: options.n,
    rounds: options.rounds,
    eager_on_jobs_per_s: mean(on.map((r) => r.rate)),
    eager_off_jobs_per_s: mean(off.map((r) => r.rate)),
    eager_on_over_off: round(mean(on.map((r) => r.rate)) / mean(off.map((r) => r.rate)), 2),
    eager_on_submit_p99_ms: mean(on.map((r) => r.p99)),
    eager_off_submit_p99_ms: mean(off.map((r) => r.p99)),
    eager_on_enqueue_to_start_p50_ms: mean(on.map((r) => r.toStart)),
    eager_off_enqueue_to_start_p50_ms: mean(off.map((r) => r.toStart)),
    eager_share_pct: mean(on.map((r) => r.eager)),
  };
}

/** A config file for `npm start` on free ports under `dir` (its own SQLite file and logs). */
export async function writeStartConfig(dir: string, secret: string, temporal: Record<string, unknown> = {}) {
  const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const configPath = join(dir, 'start.yaml');
  writeFileSync(
    configPath,
    JSON.stringify({
      port,
      job_loggers: [{ name: 'FILE', settings: { base_dir: join(dir, 'logs') } }],
      loggers: [{ name: 'STD_OUTPUT', level: 'ERROR' }],
      core_secret: secret,
      temporal: {
        task_queue: 'bench-start',
        ...temporal,
        dev_server: { port: temporalPort, ui_port: uiPort, db_file: join(dir, 'start.db') },
      },
    }),
  );
  return { configPath, port, temporalPort };
}

async function oneRun(options: StartScenarioOptions, eager: boolean, label: string) {
  const dir = join(options.dir, `start-${label}`);
  mkdirSync(dir, { recursive: true });
  const { configPath, port, temporalPort } = await writeStartConfig(dir, options.secret, { eager_start: eager });
  const started = spawnNode('src/start.ts', ['-c', configPath], { TEMPORAL_ADDRESS: '' });
  const base = `http://127.0.0.1:${port}/api/v1`;
  const headers = { authorization: `Harbor-Secret ${options.secret}`, 'content-type': 'application/json' };
  let connection: Connection | undefined;
  try {
    await until(async () => (await fetch(`${base}/stats`)).status === 200, 120_000, 'npm start', 50);
    connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
    const client = new Client({ connection });
    const job = { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } };
    const { ids, firstSubmit, metrics } = await submitAll(options.n, options.callers, () => submitJob(base, headers, job));
    await drained(client, 'bench-start');
    const latency = latencyMetrics(await runTimes(client, ids), firstSubmit);
    // An eager first task is started by the caller: its WorkflowTaskStarted names the client, not a worker pool.
    let eagerCount = 0;
    const sample = ids.slice(0, 200);
    await pool(sample.length, 16, async (i) => {
      const events = (await client.workflow.getHandle(sample[i]!).fetchHistory()).events ?? [];
      const identity = events.find((e) => e.workflowTaskStartedEventAttributes)?.workflowTaskStartedEventAttributes?.identity ?? '';
      if (!identity.startsWith('jobservice/')) eagerCount += 1;
    });
    const run = {
      rate: latency.completions_per_s,
      p99: metrics.submit_p99_ms,
      eager: (eagerCount * 100) / sample.length,
      toStart: latency.enqueue_to_start_p50_ms,
    };
    console.error(`start ${label}: ${round(run.rate)} jobs/s, eager ${round(run.eager)}%`);
    return run;
  } finally {
    await connection?.close();
    await stop(started, 'SIGINT');
  }
}
