/**
 * `npm run bench`: jobs through the REST API against raw Temporal and BullMQ on this machine.
 * Starts everything it needs on loopback, prints a table and one JSON line per scenario.
 *
 *   npm run bench -- --n 2000 --c 32 --workers 10 --scenarios burst,hooks,raw,bullmq,stop,footprint,schedules
 *   npm run bench -- --scenarios schedules --schedules 10000 --watch-seconds 30
 *   npm run bench -- --n 1000 --scenarios burst,notifications
 *   npm run bench -- --scenarios fanout --fanout-targets 1000 --fanout-pool 50
 *   npm run bench -- --scenarios retention --retention-repos 100 --retention-tags 100 --retention-keep 10 --retention-deletes 8
 *   npm run bench -- --n 1000 --scenarios burst,cluster      (the burst on the embedded server, then on the cluster profile)
 *   npm run bench -- --n 1000 --scenarios start              (the burst through npm start, eager start on and off)
 *   npm run bench -- --n 1000 --scenarios burst --deployment split   (API and worker as two processes)
 *   npm run bench -- --n 1000 --scenarios burst,raw                   (API against the best raw variant: three rounds by default, ratio of medians)
 *   npm run bench -- --n 1000 --scenarios burst,http                  (the submit's HTTP hop alone, against a gateway that answers at once)
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { Queue } from 'bullmq';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { locateTemporalCli } from '../src/temporal/locate-cli.js';
import { freePort } from '../src/process/free-port.js';
import { runTimes, type RunTimes } from './lib/histories.js';
import { spawnNode, stop, stopOnExit, until } from './lib/processes.js';
import { cpuMeter, cpuSeconds, median, percentile, round, rssMiB } from './lib/stats.js';
import { rawLocalWorkflow, rawNoopWorkflow } from './raw-workflow.js';
import { submitJob } from './lib/api-jobs.js';
import { postJob } from './lib/http-post.js';
import { fanOutScenario } from './lib/fan-out-scenario.js';
import { benchLogDir, fileCreateMicros, pruneBenchLogs, waitForQuietFs } from './lib/fs-probe.js';
import { notificationsScenario } from './lib/notifications-scenario.js';
import { retentionScenario } from './lib/retention-scenario.js';
import { scheduleScenario } from './lib/schedule-scenario.js';
import { queueStopScenario } from './lib/queue-stop-scenario.js';
import { pacedScenario } from './lib/paced-scenario.js';
import { serverGcRecorder, withGcTrace } from './lib/server-gc.js';
import { httpScenario } from './lib/http-scenario.js';
import { drained, latencyMetrics, submitAll as submitAllOf } from './lib/burst.js';
import { clusterScenario } from './lib/cluster-scenario.js';
import { startScenario, writeStartConfig } from './lib/start-scenario.js';

const { values: opts } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    /**
     * Jobs each throughput variant (the burst, every raw variant, jobs without HTTP) runs on its fresh
     * process before the measured N: throughput is a steady state, not a process's first seconds
     * (JIT, first workflow activations). The burst line reports the warm-up's own rate beside it.
     */
    warmup: { type: 'string', default: '500' },
    c: { type: 'string', default: '32' },
    workers: { type: 'string', default: '10' },
    /** Workflow task slots of the job worker and of the raw workers alike (`worker_pool.workflow_tasks`). */
    'workflow-tasks': { type: 'string', default: '200' },
    /** `on` or `off`: the SDK's 5 s watchdog on workflow code (`worker_pool.workflow_watchdog`), for the job worker and the raw workers alike. */
    'workflow-watchdog': { type: 'string', default: 'on' },
    'stop-samples': { type: 'string', default: '10' },
    scenarios: {
      type: 'string',
      default: 'burst,http,paced,hooks,raw,bullmq,stop,footprint,schedules,retention,fanout,notifications,queue-stop',
    },
    /** The paced scenario: NOOP jobs at this rate (default: half the burst's completions/s, else 20) for this long. */
    'paced-rate': { type: 'string', default: '' },
    'paced-seconds': { type: 'string', default: '60' },
    /** The paced scenario writes each submit's send time and latency to this JSON file. */
    'paced-dump': { type: 'string', default: '' },
    /** The dev server's output lines go here, each after its epoch ms (with GODEBUG=gctrace=1: its collections). */
    'server-log': { type: 'string', default: '' },
    /** The queue-stop scenario: this many NOOP jobs held by a paused queue, then the type stopped. */
    'stop-n': { type: 'string', default: '10000' },
    /** The schedules scenario: how many periodic jobs to register, and how long to watch a 1 s schedule. */
    schedules: { type: 'string', default: '10000' },
    'watch-seconds': { type: 'string', default: '30' },
    /** The retention scenario: repositories × tags, keeping `retention-keep`, with `retention-deletes` in flight. */
    'retention-repos': { type: 'string', default: '100' },
    'retention-tags': { type: 'string', default: '100' },
    'retention-keep': { type: 'string', default: '10' },
    'retention-deletes': { type: 'string', default: '8' },
    /** The fan-out scenario: a NOOP_BATCH of this many targets at this pool size. */
    'fanout-targets': { type: 'string', default: '1000' },
    'fanout-pool': { type: 'string', default: '50' },
    /** The notifications scenario: the receiver answers each POST this late. */
    'notify-delay-ms': { type: 'string', default: '0' },
    /** Experiments: the embedded server's SQLite synchronous pragma, extra pragmas and extra dynamic config (k=v,k=v). */
    'sqlite-sync': { type: 'string', default: 'FULL' },
    'sqlite-pragmas': { type: 'string', default: '' },
    /** How the API and worker run: `start` (one process, as npm start runs them) or `split` (two processes). */
    deployment: { type: 'string', default: 'start' },
    'dynamic-config': { type: 'string', default: '' },
    /** `all`: every server's SQLite file keeps all of Temporal's visibility indexes (before session 19); default `lean`, as npm start. */
    'visibility-indexes': { type: 'string', default: 'lean' },
    /**
     * Before the variants that write job logs (the burst, jobs without HTTP), wait up to this long for
     * file creates to cost under 100 µs again (see lib/fs-probe.ts); 0 measures whatever state it finds.
     */
    'fs-quiet-wait': { type: 'string', default: '360' },
    /**
     * With raw: rounds of the API burst and the best raw variant (the first is the scenarios' own),
     * alternating, each on a fresh server; the rounds line reports the ratio of their medians, and
     * so does raw-best's api_to_best_raw_ratio. One round against one is a coin toss on this
     * machine (0.70–0.91 in one day), so three is the default; `--rounds 1` for a quick look.
     */
    rounds: { type: 'string', default: '3' },
    /**
     * The raw variants to run, and whether to run the jobs without HTTP beside them (a quick look:
     * `local_activity_eager,jobs_without_http`); the best of those run is the ceiling, so the full
     * ratio needs all three raw variants.
     */
    'raw-variants': { type: 'string', default: 'activity,local_activity,local_activity_eager,jobs_without_http' },
  },
});
const N = Number(opts.n);
const C = Number(opts.c);
const WARMUP = Number(opts.warmup);
const WORKERS = Number(opts.workers);
const FS_QUIET_WAIT_S = Number(opts['fs-quiet-wait']);
const ROUNDS = Number(opts.rounds);
if (!['on', 'off'].includes(opts['workflow-watchdog']))
  throw new Error(`--workflow-watchdog is on or off, not ${opts['workflow-watchdog']}`);
const WATCHDOG = opts['workflow-watchdog'] === 'on';
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds is a whole number from 1, not ${opts.rounds}`);
const STOP_SAMPLES = Number(opts['stop-samples']);
const SCENARIOS = new Set(opts.scenarios.split(','));
if (opts.deployment !== 'start' && opts.deployment !== 'split') throw new Error(`--deployment is start or split, not ${opts.deployment}`);
// Killed (Ctrl-C, a timeout's SIGTERM), the bench still takes its servers and API processes down
// with it: Node runs the 'exit' handlers that kill them only when it exits on its own. An API
// process left behind kept a core a third busy and skewed the next run.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(128 + constants.signals[signal]));
const SECRET = 'bench-secret';
const API_QUEUE = 'bench-api';
const RAW_QUEUE = 'bench-raw';
const DIRECT_QUEUE = 'bench-direct';

type Row = { scenario: string; metric: string; value: number | string };
const rows: Row[] = [];
const results: Record<string, Record<string, unknown>> = {};

/** The burst's completions/s, if it ran: later scenarios pace themselves or compare against it. */
function burstCompletionsPerS(): number | undefined {
  return results.burst?.completions_per_s as number | undefined;
}

function report(scenario: string, metrics: Record<string, number | string>) {
  results[scenario] = { scenario, ...metrics };
  for (const [metric, value] of Object.entries(metrics)) rows.push({ scenario, metric, value });
  console.log(JSON.stringify({ scenario, ...metrics }));
}

/** Submit N jobs with C concurrent callers; `submit` returns the job's id. */
const submitAll = (submit: (i: number) => Promise<string>, n = N) => submitAllOf(n, C, submit);

/** The dev server's lines with the epoch ms they arrived at, in a file begun afresh; a write that fails is dropped, not thrown. */
function serverLog(path: string): (line: string) => void {
  writeFileSync(path, '');
  return (line) => {
    try {
      appendFileSync(path, `${Date.now()} ${line}\n`);
    } catch {
      // a diagnostic only
    }
  };
}

/** A dev server as `npm start` runs it (SQLite file, pragmas), with the bench's experiment flags. */
async function benchServer(cli: string, dbFile: string, log?: (line: string) => void, env?: Record<string, string>): Promise<DevServer> {
  return startDevServer({
    cli,
    ...(env ? { env } : {}),
    ip: '127.0.0.1',
    port: await freePort(),
    dbFile,
    synchronous: opts['sqlite-sync'] === 'NORMAL' ? 'NORMAL' : 'FULL',
    visibilityIndexes: opts['visibility-indexes'] === 'all' ? 'all' : 'lean',
    extraPragmas: opts['sqlite-pragmas'].split(',').filter(Boolean),
    ...(log ? { log } : {}),
    dynamicConfig: Object.fromEntries(
      opts['dynamic-config']
        .split(',')
        .filter(Boolean)
        .map((pair) => pair.split('=') as [string, string]),
    ),
  });
}

/**
 * Runs one throughput variant against a dev server of its own, started fresh, so every variant
 * meets the same server state: on one server the later variants would find a larger database and
 * a Go heap already grown to its budget (the first variant pays for faulting it in, ~110 more
 * page faults per job), whatever ran before them.
 */
async function onFreshServer<T>(
  cli: string,
  dir: string,
  name: string,
  run: (server: DevServer, client: Client) => Promise<T>,
): Promise<T> {
  const serverDir = join(dir, `server-${name}`);
  mkdirSync(serverDir, { recursive: true });
  const server = await benchServer(cli, join(serverDir, 'temporal.db'));
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: server.address });
    return await run(server, new Client({ connection }));
  } finally {
    await connection?.close().catch(() => undefined);
    await server.stop();
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'jobservice-bench-'));
  const cli = await locateTemporalCli({ log: (l) => console.error(l) });
  // Its server prints a line per Go collection, to set the paced tail against.
  const serverGcs = serverGcRecorder(opts['server-log'] ? serverLog(opts['server-log']) : undefined);
  const server = await benchServer(cli, join(dir, 'temporal.db'), serverGcs.log, { GODEBUG: withGcTrace(process.env.GODEBUG) });
  console.error(
    `server: sqlite synchronous=${opts['sqlite-sync']}${opts['sqlite-pragmas'] ? ` ${opts['sqlite-pragmas']}` : ''} visibility indexes ${opts['visibility-indexes']} dynamic config ${opts['dynamic-config'] || '(default)'}`,
  );
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const apiPort = await freePort();
  const configPath = join(dir, 'bench.yaml');
  writeFileSync(
    configPath,
    JSON.stringify({
      job_loggers: [{ name: 'FILE', level: 'INFO', settings: { base_dir: benchLogDir(basename(dir)) } }],
      loggers: [{ name: 'STD_OUTPUT', level: 'ERROR' }],
    }),
  );
  const env = {
    TEMPORAL_ADDRESS: server.address,
    CORE_SECRET: SECRET,
    JOB_SERVICE_PORT: String(apiPort),
    JOB_SERVICE_POOL_WORKERS: String(WORKERS),
    JOB_SERVICE_POOL_WORKFLOW_TASKS: opts['workflow-tasks'],
    JOB_SERVICE_POOL_WORKFLOW_WATCHDOG: String(WATCHDOG),
    JOB_SERVICE_TASK_QUEUE: API_QUEUE,
    JOB_SERVICE_CONFIG: configPath,
  };
  // `start`: API and worker in one process on one native connection, as `npm start` runs them
  // (submits start eagerly); `split`: an API process and a worker process, as a scaled-out deployment.
  const together = opts.deployment === 'start';
  const api = spawnNode(together ? 'src/start.ts' : 'src/api/main.ts', [], env);
  const worker = together ? api : spawnNode('src/worker/main.ts', [], env);
  const base = `http://127.0.0.1:${apiPort}/api/v1`;
  const headers = { authorization: `Harbor-Secret ${SECRET}`, 'content-type': 'application/json' };
  try {
    await until(async () => (await fetch(`${base}/stats`)).status === 200, 60_000, 'the API and worker');
    const idle = { api_rss_idle_mib: rssMiB(api.pid), worker_rss_idle_mib: rssMiB(worker.pid) };

    if (SCENARIOS.has('burst')) {
      await burst(client, base, headers, benchLogDir(basename(dir)), () => {
        const app = cpuMeter(server.process.pid!, api.pid!);
        // Split, the API process is the app; the worker's share is reported beside it.
        const split = together ? undefined : cpuMeter(server.process.pid!, worker.pid!);
        return (jobs: number) => ({
          ...app(jobs),
          ...(split ? { worker_cpu_ms_per_job: split(jobs).app_cpu_ms_per_job } : {}),
        });
      });
    }
    // The hop alone, paced at the rate the service just sustained (see lib/http-scenario.ts).
    if (SCENARIOS.has('http')) {
      const burstRate = burstCompletionsPerS();
      report('http', await httpScenario({ n: N * 10, callers: C, secret: SECRET, rate: burstRate ?? 75, seconds: 20 }));
    }
    const afterBurst = { api_rss_after_burst_mib: rssMiB(api.pid), worker_rss_after_burst_mib: rssMiB(worker.pid) };
    if (SCENARIOS.has('paced')) {
      const burstRate = burstCompletionsPerS();
      const rate = opts['paced-rate'] ? Number(opts['paced-rate']) : burstRate ? burstRate / 2 : 20;
      report(
        'paced',
        await pacedScenario({
          client,
          base,
          headers,
          taskQueue: API_QUEUE,
          rate,
          seconds: Number(opts['paced-seconds']),
          ...(opts['paced-dump'] ? { dumpFile: opts['paced-dump'] } : {}),
          serverGcs: serverGcs.collections,
        }),
      );
    }
    if (SCENARIOS.has('hooks')) await hooks(client, base, headers);
    // Opt-in (not in the default list): it starts PostgreSQL and four Temporal services beside the embedded server.
    if (SCENARIOS.has('cluster')) report('cluster', await clusterScenario({ n: N, callers: C, secret: SECRET }));
    // Opt-in: the burst through npm start itself, eager workflow start on and off, interleaved.
    if (SCENARIOS.has('start')) report('start', await startScenario({ dir, n: N, callers: C, secret: SECRET, rounds: 2 }));
    if (SCENARIOS.has('raw')) await raw(cli, client, base, headers, env, dir);
    // Opt-in: the burst again after everything else, on a server and an API process of its own, to
    // tell the burst's place in the run (always first) from what its HTTP hop costs.
    if (SCENARIOS.has('burst-late')) await apiBurstOnFreshServer(cli, dir, env, headers, 'burst-late');
    if (SCENARIOS.has('bullmq')) await bullmq(dir);
    if (SCENARIOS.has('stop')) await stopLatency(base, headers);
    if (SCENARIOS.has('footprint'))
      report('footprint', { deployment: opts.deployment, ...idle, ...afterBurst, npm_start_to_healthy_s: await startupTime(dir) });
    if (SCENARIOS.has('schedules')) {
      const metrics = await scheduleScenario({
        client,
        base,
        headers,
        count: Number(opts.schedules),
        callers: C,
        watchSeconds: Number(opts['watch-seconds']),
      });
      report('schedules', {
        ...metrics,
        api_rss_mib: rssMiB(api.pid),
        worker_rss_mib: rssMiB(worker.pid),
        temporal_rss_mib: rssMiB(server.process.pid),
      });
    }
    if (SCENARIOS.has('notifications')) {
      const metrics = await notificationsScenario({
        client,
        base,
        headers,
        n: N,
        callers: C,
        delayMs: Number(opts['notify-delay-ms']),
      });
      const burstRate = burstCompletionsPerS();
      report('notifications', { ...metrics, vs_noop_burst: burstRate ? round(metrics.completions_per_s / burstRate, 2) : 'n/a' });
    }
    if (SCENARIOS.has('fanout')) {
      report(
        'fanout',
        await fanOutScenario({ client, base, headers, targets: Number(opts['fanout-targets']), poolSize: Number(opts['fanout-pool']) }),
      );
    }
    if (SCENARIOS.has('queue-stop')) {
      report('queue-stop', await queueStopScenario({ client, base, headers, taskQueue: API_QUEUE, n: Number(opts['stop-n']), callers: C }));
    }
    if (SCENARIOS.has('retention')) {
      report(
        'retention',
        await retentionScenario({
          base,
          headers,
          repositories: Number(opts['retention-repos']),
          tags: Number(opts['retention-tags']),
          keep: Number(opts['retention-keep']),
          deletes: Number(opts['retention-deletes']),
        }),
      );
    }
  } catch (err) {
    console.error('api output:', api.output.join(''));
    console.error('worker output:', worker.output.join(''));
    throw err;
  } finally {
    await stop(api);
    await stop(worker);
    await connection.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    pruneBenchLogs();
  }
  printTable();
}

/** 1. N no-op jobs through the REST API by C concurrent callers. */
async function burst(
  client: Client,
  base: string,
  headers: Record<string, string>,
  /** Where the job logs go: the probes of file creates go beside them. */
  logDir: string,
  meter: () => (jobs: number) => Record<string, number>,
  scenario = 'burst',
  deployment = opts.deployment,
) {
  const body = JSON.stringify({ job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } } });
  const fs = await waitForQuietFs(logDir, FS_QUIET_WAIT_S, (l) => console.error(l));
  const warm = WARMUP > 0 ? await submitAll(() => postJob(`${base}/jobs`, headers, body), WARMUP) : undefined;
  if (warm) await drained(client, API_QUEUE);
  const warmRate = warm ? latencyMetrics(await runTimes(client, warm.ids), warm.firstSubmit).completions_per_s : 'n/a';
  const cpu = meter();
  const { ids, firstSubmit, metrics } = await submitAll(() => postJob(`${base}/jobs`, headers, body));
  await drained(client, API_QUEUE);
  const spent = cpu(N);
  report(scenario, {
    deployment,
    warmup: WARMUP,
    ...metrics,
    ...latencyMetrics(await runTimes(client, ids), firstSubmit),
    ...spent,
    warmup_completions_per_s: warmRate,
    ...fs,
    // The same probe after the run: the burst's own log files do not slow creates (no removals).
    log_create_us_after: fileCreateMicros(logDir),
  });
}

/** 1b. The burst again, each job with a status hook to a receiver in this process. */
async function hooks(client: Client, base: string, headers: Record<string, string>) {
  const received = new Map<string, { statuses: string[]; finalAt?: number }>();
  let events = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { job_id: string; status: string };
      const entry = received.get(event.job_id) ?? { statuses: [] };
      entry.statuses.push(event.status);
      if (event.status !== 'Running') entry.finalAt = Date.now();
      received.set(event.job_id, entry);
      events += 1;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  try {
    const body = JSON.stringify({ job: { name: 'NOOP', parameters: {}, status_hook: hookUrl, metadata: { kind: 'Generic' } } });
    const { ids, firstSubmit, metrics } = await submitAll(() => postJob(`${base}/jobs`, headers, body));
    await drained(client, API_QUEUE);
    const finals = ids.map((id) => received.get(id)?.finalAt ?? Number.NaN);
    const missing = finals.filter((t) => Number.isNaN(t)).length;
    const times = await runTimes(client, ids);
    const finalAfterStart = times.map((t, i) => finals[i]! - t.started).filter((v) => Number.isFinite(v));
    const burstRate = burstCompletionsPerS();
    const latency = latencyMetrics(times, firstSubmit);
    report('hooks', {
      ...metrics,
      ...latency,
      hook_events: events,
      jobs_without_final_hook: missing,
      final_hook_after_job_start_p50_ms: round(percentile(finalAfterStart, 0.5)),
      final_hook_after_job_start_p99_ms: round(percentile(finalAfterStart, 0.99)),
      vs_burst_without_hooks: burstRate ? round(latency.completions_per_s / burstRate, 2) : 'n/a',
    });
  } finally {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}

/** 2. The same N one-activity workflows started straight with the SDK: the engine's ceiling. */
/** History events and state transitions of one job through the API, once it has closed. */
async function persistenceCost(client: Client, base: string, headers: Record<string, string>, job: Record<string, unknown>) {
  const id = await submitJob(base, headers, job);
  await until(
    async () => (await client.workflow.getHandle(id).describe()).status.name !== 'RUNNING',
    120_000,
    `${String(job.name)} to close`,
    250,
  );
  const { raw: described } = await client.workflow.getHandle(id).describe();
  return {
    transitions: Number(described.workflowExecutionInfo?.stateTransitionCount ?? 0),
    events: Number(described.workflowExecutionInfo?.historyLength ?? 0),
  };
}

async function raw(
  cli: string,
  apiClient: Client,
  base: string,
  headers: Record<string, string>,
  apiEnv: Record<string, string>,
  benchDir: string,
) {
  const polling = (client: Client) =>
    until(
      async () => {
        const queue = await client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: RAW_QUEUE, kind: 1 },
          taskQueueType: 1,
        });
        return (queue.pollers ?? []).length > 0;
      },
      60_000,
      'the raw worker to poll',
    );
  const variants: Record<string, number> = {};
  // a. one activity and b. one local activity, started by this process's client like the API's.
  const wanted = new Set(opts['raw-variants'].split(','));
  for (const [name, workflow] of [
    ['activity', rawNoopWorkflow],
    ['local_activity', rawLocalWorkflow],
  ] as const) {
    if (!wanted.has(name)) continue;
    await onFreshServer(cli, benchDir, name, async (server, client) => {
      const worker = spawnNode('bench/raw-worker.ts', [], rawWorkerEnv(server));
      try {
        // Submissions start once the worker polls, so enqueue→start does not include its boot.
        await polling(client);
        const run = `${name}-${Date.now().toString(36)}`;
        if (WARMUP > 0) {
          await submitAll(async (i) => {
            await client.workflow.start(workflow, { workflowId: `raw-${run}-warm-${i}`, taskQueue: RAW_QUEUE });
            return '';
          }, WARMUP);
          await drained(client, RAW_QUEUE);
        }
        const cpu = cpuMeter(server.process.pid!, worker.pid!);
        const {
          ids,
          firstSubmit,
          metrics: submitted,
        } = await submitAll(async (i) => {
          const id = `raw-${run}-${i}`;
          await client.workflow.start(workflow, { workflowId: id, taskQueue: RAW_QUEUE });
          return id;
        });
        await drained(client, RAW_QUEUE);
        const spent = cpu(N);
        const metrics = latencyMetrics(await runTimes(client, ids), firstSubmit);
        variants[name] = metrics.completions_per_s;
        report(name === 'activity' ? 'raw-temporal' : `raw-${name.replace('_', '-')}`, { ...submitted, ...metrics, ...spent });
      } finally {
        await stop(worker);
      }
    });
  }
  // c. a local activity, started eagerly: the worker's process submits through its own connection.
  if (wanted.has('local_activity_eager')) variants.local_activity_eager = await rawEagerOnFreshServer(cli, benchDir, 'raw-local-eager');
  const [bestName, best] = Object.entries(variants).sort((a, b) => b[1] - a[1])[0]!;
  const burstRate = burstCompletionsPerS();
  // d. Not a raw variant: NOOP jobs as `npm start` runs them, minus HTTP. It splits the API's gap
  // to the best raw variant into what the job costs and what its HTTP hop costs.
  // The file system settles first, so the fresh server waits for nothing.
  let direct: number | undefined;
  if (wanted.has('jobs_without_http')) {
    const fs = await waitForQuietFs(benchLogDir(basename(benchDir)), FS_QUIET_WAIT_S, (l) => console.error(l));
    direct = await onFreshServer(cli, benchDir, 'direct', (server, client) =>
      directJobs(client, server, { ...apiEnv, TEMPORAL_ADDRESS: server.address }, fs),
    );
  }
  // What one job costs the server: a NOOP, and a DEMO with its default three check-ins.
  const noop = await persistenceCost(apiClient, base, headers, { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
  const demo = await persistenceCost(apiClient, base, headers, {
    name: 'DEMO',
    parameters: { image: 'demo-cost' },
    metadata: { kind: 'Generic' },
  });
  let ofMedians: { api: number; raw: number } | undefined;
  if (ROUNDS > 1 && burstRate !== undefined && bestName === 'local_activity_eager') {
    // The machine's speed drifts over minutes: more rounds of the two variants the ratio compares,
    // each on fresh processes and servers, in alternating order, and the ratio of their medians.
    const api = [burstRate];
    const rawBest = [best];
    for (let round = 2; round <= ROUNDS; round++) {
      const apiRound = () => apiBurstOnFreshServer(cli, benchDir, apiEnv, headers, `burst-round-${round}`);
      const rawRound = () => rawEagerOnFreshServer(cli, benchDir, `raw-local-eager-round-${round}`);
      if (round % 2 === 0) {
        rawBest.push(await rawRound());
        api.push(await apiRound());
      } else {
        api.push(await apiRound());
        rawBest.push(await rawRound());
      }
    }
    const apiMedian = median(api);
    const rawMedian = median(rawBest);
    ofMedians = { api: apiMedian, raw: rawMedian };
    report('rounds', {
      rounds: ROUNDS,
      api_per_s: api.join(' '),
      best_raw_per_s: rawBest.join(' '),
      api_median_per_s: apiMedian,
      best_raw_median_per_s: rawMedian,
      api_to_best_raw_ratio_of_medians: round(apiMedian / rawMedian, 2),
    });
  }
  report('raw-best', {
    noop_state_transitions: noop.transitions,
    noop_history_events: noop.events,
    demo_state_transitions: demo.transitions,
    demo_history_events: demo.events,
    best_variant: bestName,
    completions_per_s: best,
    api_to_raw_ratio: burstRate && variants.activity ? round(burstRate / variants.activity, 2) : 'n/a',
    // With rounds, the ratios to the best raw variant are to the median of its rounds (see the
    // rounds line), the API's the median of its own; the first round's alone beside them. Rounds
    // asked for but not run (no burst, or another best variant) say so here.
    ratio_basis: ofMedians ? `median of ${ROUNDS} rounds` : ROUNDS > 1 ? 'first round only (rounds not run)' : 'one round',
    api_to_best_raw_ratio: ofMedians ? round(ofMedians.api / ofMedians.raw, 2) : burstRate ? round(burstRate / best, 2) : 'n/a',
    ...(ofMedians
      ? { best_raw_median_per_s: ofMedians.raw, api_to_best_raw_ratio_first_round: burstRate ? round(burstRate / best, 2) : 'n/a' }
      : {}),
    jobs_without_http_per_s: direct ?? 'n/a',
    jobs_without_http_to_best_raw_ratio: direct ? round(direct / (ofMedians?.raw ?? best), 2) : 'n/a',
    // What the HTTP hop leaves of the job's own rate: the first round's burst, which ran beside it.
    api_to_jobs_without_http_ratio: burstRate && direct ? round(burstRate / direct, 2) : 'n/a',
  });
}

/**
 * The burst once more, on a server and an API process (`npm start`'s shape) of its own, reported
 * as `scenario`; its completions per second.
 */
async function apiBurstOnFreshServer(
  cli: string,
  dir: string,
  apiEnv: Record<string, string>,
  headers: Record<string, string>,
  scenario: string,
): Promise<number> {
  return onFreshServer(cli, dir, scenario, async (server, client) => {
    const port = await freePort();
    const api = spawnNode('src/start.ts', [], { ...apiEnv, TEMPORAL_ADDRESS: server.address, JOB_SERVICE_PORT: String(port) });
    try {
      const base = `http://127.0.0.1:${port}/api/v1`;
      await until(async () => (await fetch(`${base}/stats`)).status === 200, 60_000, `the API and worker of ${scenario}`);
      await burst(client, base, headers, benchLogDir(basename(dir)), () => cpuMeter(server.process.pid!, api.pid!), scenario, 'start');
      return results[scenario]!.completions_per_s as number;
    } catch (err) {
      console.error(`${scenario} api output:`, api.output.join(''));
      throw err;
    } finally {
      await stop(api);
    }
  });
}

/** A raw worker (bench/raw-worker.ts) against `server`, with the job worker's slot counts. */
function rawWorkerEnv(server: DevServer): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: server.address,
    RAW_TASK_QUEUE: RAW_QUEUE,
    RAW_WORKERS: String(WORKERS),
    RAW_WORKFLOW_TASKS: opts['workflow-tasks'],
    RAW_WORKFLOW_WATCHDOG: String(WATCHDOG),
  };
}

/** The raw ceiling's best variant (a local activity, started eagerly from the worker's own process) on a server of its own. */
async function rawEagerOnFreshServer(cli: string, benchDir: string, scenario: string): Promise<number> {
  return onFreshServer(cli, benchDir, scenario, async (server, client) => {
    const prefix = `raw-eager-${Date.now().toString(36)}`;
    const eager = await selfSubmitted<{ eager: number; latencies: number[] }>(
      client,
      server,
      'bench/raw-worker.ts',
      {
        ...rawWorkerEnv(server),
        RAW_SUBMIT_N: String(N),
        RAW_WARMUP_N: String(WARMUP),
        RAW_CALLERS: String(C),
        RAW_ID_PREFIX: prefix,
      },
      RAW_QUEUE,
      () => Array.from({ length: N }, (_, i) => `${prefix}-${i}`),
    );
    report(scenario, { n: N, eager_starts: eager.line.eager, ...eager.submits, ...eager.metrics, ...eager.spent });
    return eager.metrics.completions_per_s;
  });
}

/** NOOP jobs through the job service in the worker's own process (bench/direct-jobs.ts), eager starts included. */
async function directJobs(
  client: Client,
  server: DevServer,
  apiEnv: Record<string, string>,
  fs: { log_create_us: number; fs_quiet_wait_s: number },
): Promise<number> {
  const direct = await selfSubmitted<{ ids: string[]; latencies: number[] }>(
    client,
    server,
    'bench/direct-jobs.ts',
    {
      ...apiEnv,
      JOB_SERVICE_TASK_QUEUE: DIRECT_QUEUE,
      DIRECT_SUBMIT_N: String(N),
      DIRECT_WARMUP_N: String(WARMUP),
      DIRECT_CALLERS: String(C),
    },
    DIRECT_QUEUE,
    (line) => line.ids,
  );
  report('jobs-without-http', { n: N, ...direct.submits, ...direct.metrics, ...direct.spent, ...fs });
  return direct.metrics.completions_per_s;
}

/**
 * A child process that boots a worker (and runs its warm-up jobs), prints the CPU spent so far (`boot_cpu_s`), submits N jobs itself and
 * prints a `submitted` line with their latencies: its CPU counted from its boot's end, its jobs'
 * times from their first start.
 */
async function selfSubmitted<T extends { latencies: number[] }>(
  client: Client,
  server: DevServer,
  entry: string,
  env: Record<string, string>,
  queue: string,
  idsOf: (line: T) => string[],
) {
  const firstSubmit = Date.now();
  const worker = spawnNode(entry, [], env);
  try {
    const boot = await outputLine<{ boot_cpu_s: number }>(worker, 'boot_cpu_s', 120_000, 20);
    const cpu = cpuMeter(server.process.pid!, worker.pid!);
    const line = await outputLine<T>(worker, 'submitted', 600_000, 200);
    await drained(client, queue);
    const spent = cpu(N);
    // The meter began a little after the worker's boot ended: count the CPU from the boot's end.
    spent.app_cpu_ms_per_job = round(((cpuSeconds(worker.pid!) - boot.boot_cpu_s) * 1000) / N, 2);
    // The worker's boot is in this variant's time: measured from its first start, not from the spawn.
    const times = await runTimes(client, idsOf(line));
    const first = Math.min(...times.map((t) => t.enqueued));
    const metrics = latencyMetrics(times, Math.max(first, firstSubmit));
    const submits = { submit_p50_ms: round(percentile(line.latencies, 0.5)), submit_p99_ms: round(percentile(line.latencies, 0.99)) };
    return { line, submits, metrics, spent };
  } finally {
    await stop(worker);
  }
}

/** The JSON line a child printed that starts with `key`, once it has printed it. */
async function outputLine<T>(child: { output: string[] }, key: string, timeoutMs: number, intervalMs: number): Promise<T> {
  const find = () =>
    child.output
      .join('')
      .split('\n')
      .find((l) => l.startsWith(`{"${key}"`));
  await until(async () => find() !== undefined, timeoutMs, `the raw worker's ${key} line`, intervalMs);
  return JSON.parse(find()!) as T;
}

/** 3. The same N no-op jobs on BullMQ 5 with Redis (AOF, fsync every second) at the same concurrency. */
async function bullmq(dir: string) {
  const redisServer = ensureRedis();
  const port = await freePort();
  const redis = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir], {
    stdio: 'ignore',
  });
  stopOnExit(redis);
  const queueName = `bench-${Date.now().toString(36)}`;
  const connection = { host: '127.0.0.1', port };
  let worker: ReturnType<typeof spawnNode> | undefined;
  const queue = new Queue(queueName, { connection });
  try {
    await until(async () => (await queue.client).status === 'ready', 10_000, 'redis');
    worker = spawnNode('bench/bullmq-worker.ts', [], {
      BULLMQ_QUEUE: queueName,
      REDIS_PORT: String(port),
      BULLMQ_CONCURRENCY: String(WORKERS),
    });
    await until(async () => (await queue.getWorkers()).length > 0, 60_000, 'the BullMQ worker to connect');
    const { ids, firstSubmit, metrics } = await submitAll(async () => (await queue.add('noop', {}, { removeOnComplete: false })).id!);
    await until(async () => ((await queue.getJobCounts('completed')).completed ?? 0) >= N, 600_000, 'BullMQ to finish', 200);
    const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
    const times: RunTimes[] = jobs.map((job) => ({
      enqueued: job!.timestamp,
      started: job!.processedOn ?? Number.NaN,
      closed: job!.finishedOn ?? Number.NaN,
    }));
    report('bullmq', { ...metrics, ...latencyMetrics(times, firstSubmit) });
  } finally {
    await queue.close();
    await stop(worker);
    await stop(redis);
  }
}

/** 4. POST action=stop → the job leaves Running, for a job checking in every second and for a silent one. */
async function stopLatency(base: string, headers: Record<string, string>) {
  const measure = async (checkinEveryMs: number) => {
    const samples: number[] = [];
    for (let i = 0; i < STOP_SAMPLES; i++) {
      const body = JSON.stringify({
        job: { name: 'NOOP', parameters: { duration_ms: 600_000, checkin_every_ms: checkinEveryMs }, metadata: { kind: 'Generic' } },
      });
      const submitted = await fetch(`${base}/jobs`, { method: 'POST', headers, body });
      const { id } = ((await submitted.json()) as { job: { id: string } }).job;
      const status = async () =>
        ((await (await fetch(`${base}/jobs/${id}`, { headers })).json()) as { job: { status: string } }).job.status;
      await until(async () => (await status()) === 'Running', 30_000, 'the job to run', 20);
      // A run in its stride (heartbeats throttled, check-ins flowing), not one that has just begun:
      // a stop right after the start reaches it with the run's first heartbeat.
      await new Promise((r) => setTimeout(r, 1500));
      const t = performance.now();
      const response = await fetch(`${base}/jobs/${id}`, { method: 'POST', headers, body: JSON.stringify({ action: 'stop' }) });
      if (response.status !== 204) throw new Error(`stop answered ${response.status}`);
      await until(async () => (await status()) !== 'Running', 30_000, 'the job to stop', 10);
      samples.push(performance.now() - t);
    }
    return samples;
  };
  const chatty = await measure(1000);
  const silent = await measure(0);
  report('stop', {
    samples: STOP_SAMPLES,
    checkin_1s_p50_ms: round(percentile(chatty, 0.5)),
    checkin_1s_max_ms: round(Math.max(...chatty)),
    silent_p50_ms: round(percentile(silent, 0.5)),
    silent_max_ms: round(Math.max(...silent)),
  });
}

/** 5b. `npm start` (CLI cached) until /stats answers 200. */
async function startupTime(dir: string): Promise<number> {
  const startDir = join(dir, 'startup');
  mkdirSync(startDir, { recursive: true });
  const { configPath, port } = await writeStartConfig(startDir, SECRET);
  const t = Date.now();
  const started = spawnNode('src/start.ts', ['-c', configPath], { TEMPORAL_ADDRESS: '' });
  try {
    await until(async () => (await fetch(`http://127.0.0.1:${port}/api/v1/stats`)).status === 200, 120_000, 'npm start', 50);
    return round((Date.now() - t) / 1000, 2);
  } finally {
    await stop(started, 'SIGINT');
  }
}

function ensureRedis(): string {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  if (which.status === 0) return which.stdout.trim();
  if (process.getuid?.() !== 0) throw new Error('redis-server is missing: apt-get install redis-server');
  console.error('installing redis-server from Debian packages…');
  const install = spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server'], {
    stdio: 'inherit',
  });
  if (install.status !== 0) throw new Error('apt-get install redis-server failed');
  return '/usr/bin/redis-server';
}

function printTable() {
  const width = Math.max(...rows.map((r) => r.metric.length));
  console.log(`\n${'scenario'.padEnd(14)} ${'metric'.padEnd(width)}  value`);
  for (const row of rows) console.log(`${row.scenario.padEnd(14)} ${row.metric.padEnd(width)}  ${row.value}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
