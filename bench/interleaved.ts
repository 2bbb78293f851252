/**
 * `npm run bench:interleaved -- --variants bare,job --rounds 8 --batch 200`: what a job costs against
 * a bare workflow, measured so that this machine's drift cancels out. One dev server (a fresh SQLite
 * file, the bench's pragmas), one process running a raw worker and `npm start`'s worker and job
 * service on one native connection; batches of each variant in turn (the order reversed every
 * round), CPU per job from /proc for each batch: the server, this process, the whole machine. Each
 * variant meets the same server and the same minute as the others, which separate fresh-server
 * runs (the `raw` scenario) cannot give: there one variant against another moved ±10% run to run.
 *
 * Variants: `bare` (the raw local-activity workflow, started eagerly), `job` (NOOP jobs through the
 * job service, as the submit route calls it), `api` (the same through the REST facade, served and
 * posted to in this process), `jobwf` (the job's workflow started directly, without the service), and `shape:<parts>` — the raw workflow carrying parts
 * of what a job carries (`args`, `memo`, `sas`, `summary`, `upserts` — or only `upsert-memo`,
 * `upsert-status` — or `job` for all of them), joined with `+`; `compact` makes `args` the start
 * argument a job has today (before session 18 it carried the whole input, which `args` still
 * does without it), `lean` the session 18 experiment (see below).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { workerClass } from '../src/worker/unwatched-worker.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { locateTemporalCli } from '../src/temporal/locate-cli.js';
import { freePort } from '../src/process/free-port.js';
import { jobStartOptions } from '../src/shared/job-start.js';
import { JobKind, type JobInput } from '../src/shared/job-model.js';
import { pool, until } from './lib/processes.js';
import { postJob } from './lib/http-post.js';
import { cpuSeconds, machineStat, median, ownCpuSeconds, ownThreadCpuSeconds, round } from './lib/stats.js';
import { rawJobShapedWorkflow, rawLocalWorkflow } from './raw-workflow.js';

const { values: opts } = parseArgs({
  options: {
    variants: { type: 'string', default: 'bare,job' },
    rounds: { type: 'string', default: '8' },
    batch: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '300' },
    c: { type: 'string', default: '32' },
    workers: { type: 'string', default: '10' },
    'workflow-tasks': { type: 'string', default: '200' },
    /** `on` or `off`: the SDK's 5 s watchdog on workflow code (`worker_pool.workflow_watchdog`), for the job worker and the raw worker alike. */
    'workflow-watchdog': { type: 'string', default: 'on' },
    /** Read the dev server's own metrics per batch: persistence and visibility operations per job. */
    'server-metrics': { type: 'boolean', default: false },
    /** Also this process's CPU per job by thread name (event loop, workflow threads, the SDK's Rust runtime, …). */
    threads: { type: 'boolean', default: false },
    /** `all`: the server's SQLite file keeps every visibility index (as before session 19); `lean` is npm start's default. */
    'visibility-indexes': { type: 'string', default: 'lean' },
    /** `none`: jobs write no log file (what the log costs). */
    'job-log': { type: 'string', default: 'file' },
  },
});
const BATCH = Number(opts.batch);
const C = Number(opts.c);
const RAW_QUEUE = 'interleaved-raw';
const JOB_QUEUE = 'interleaved-job';
const SECRET = 'interleaved-secret';
const RAW_WORKFLOWS_PATH = fileURLToPath(new URL('./raw-workflow.ts', import.meta.url));

/** Per operation, the median over batches of its calls per job (operations seen in any batch). */
function medianOps(batches: Record<string, number>[]): Record<string, number> {
  const keys = new Set(batches.flatMap((b) => Object.keys(b)));
  return Object.fromEntries([...keys].sort().map((k) => [k, round(median(batches.map((b) => b[k] ?? 0)), 2)]));
}

async function main() {
  const variants = opts.variants.split(',');
  const dir = mkdtempSync(join(tmpdir(), 'jobservice-interleaved-'));
  const cli = await locateTemporalCli({ log: (l) => console.error(l) });
  const metricsPort = opts['server-metrics'] ? await freePort() : undefined;
  const server = await startDevServer({
    cli,
    ip: '127.0.0.1',
    port: await freePort(),
    dbFile: join(dir, 'temporal.db'),
    visibilityIndexes: opts['visibility-indexes'] === 'all' ? 'all' : 'lean',
    ...(metricsPort ? { metricsPort } : {}),
  });
  /** The server's persistence and visibility calls so far, by operation (empty without --server-metrics). */
  const serverOps = async (): Promise<Record<string, number>> => {
    if (!metricsPort) return {};
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const ops: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const m = /^(visibility_persistence_requests|persistence_requests|service_requests)\{.*operation="([^"]+)".*\} ([0-9.e+]+)$/.exec(
        line,
      );
      if (!m) continue;
      // service_requests: the RPCs the server's services answered (frontend, history, matching).
      const key = `${m[1] === 'service_requests' ? (/service_name="([^"]+)"/.exec(line)?.[1] ?? 'rpc') : m[1]!.startsWith('vis') ? 'vis' : 'db'}.${m[2]}`;
      ops[key] = (ops[key] ?? 0) + Number(m[3]);
    }
    return ops;
  };
  const serverPid = server.process.pid!;
  const configPath = join(dir, 'interleaved.yaml');
  writeFileSync(
    configPath,
    JSON.stringify({
      job_loggers:
        opts['job-log'] === 'none'
          ? [{ name: 'STD_OUTPUT', level: 'ERROR' }]
          : [{ name: 'FILE', level: 'INFO', settings: { base_dir: join(dir, 'logs') } }],
      loggers: [{ name: 'STD_OUTPUT', level: 'ERROR' }],
      worker_pool: {
        workers: Number(opts.workers),
        workflow_tasks: Number(opts['workflow-tasks']),
        workflow_watchdog: opts['workflow-watchdog'] !== 'off',
      },
    }),
  );
  Object.assign(process.env, {
    TEMPORAL_ADDRESS: server.address,
    JOB_SERVICE_CONFIG: configPath,
    JOB_SERVICE_TASK_QUEUE: JOB_QUEUE,
    CORE_SECRET: SECRET,
    JOB_SERVICE_PORT: String(await freePort()),
  });
  // The service's modules read their configuration as they load, after the environment is set.
  const { startInProcessService } = await import('./lib/in-process-service.js');
  const { serveApi, jobTimings } = await import('../src/api/serve-app.js');
  const { JobRequestSchema } = await import('../src/api/contract.js');
  const { config, connection, client, registry, worker: jobWorker, service } = await startInProcessService('interleaved');
  // The REST facade as npm start serves it, for the `api` variant (its client is the bench's, here in this process).
  const api = variants.includes('api') ? await serveApi(config, client, registry, { eagerStart: config.temporal.eager_start }) : undefined;
  const headers = { authorization: `Harbor-Secret ${SECRET}`, 'content-type': 'application/json' };
  const rawWorker = await workerClass(config.worker_pool.workflow_watchdog).create({
    connection,
    taskQueue: RAW_QUEUE,
    workflowsPath: RAW_WORKFLOWS_PATH,
    bundlerOptions: { preloadModules: [RAW_WORKFLOWS_PATH] },
    activities: { noop: async () => undefined, noopShaped: async () => ({ outcome: 'done' }) },
    maxConcurrentActivityTaskExecutions: Number(opts.workers),
    maxConcurrentLocalActivityExecutions: Number(opts.workers),
    maxConcurrentWorkflowTaskExecutions: Number(opts['workflow-tasks']),
  });
  const rawRunning = rawWorker.run();

  const body = JSON.stringify({ job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } } });
  const timings = jobTimings(config);
  /** A NOOP job's input as the gateway builds it. */
  const noopInput = (id: string): JobInput => {
    const now = Math.floor(Date.now() / 1000);
    return {
      id,
      name: 'NOOP',
      kind: JobKind.Generic,
      parameters: {},
      unique: false,
      enqueueTime: now,
      revision: now,
      ...registry.startPolicy('NOOP', {}),
      timings,
    };
  };
  let seq = 0;
  const submitOne: Record<string, () => Promise<unknown>> = {};
  for (const variant of variants) {
    if (variant === 'job') {
      submitOne[variant] = () => service.submit(JobRequestSchema.parse(JSON.parse(body)).job);
    } else if (variant === 'api') {
      submitOne[variant] = () => postJob(`${api!.url}/api/v1/jobs`, headers, body);
    } else if (variant === 'jobwf') {
      // The job's workflow and run as the service starts them, without the service's submit path.
      const { GenericJob } = await import('../src/workflows/job-workflow.js');
      submitOne[variant] = () =>
        client.workflow.start(GenericJob, {
          taskQueue: JOB_QUEUE,
          requestEagerStart: true,
          ...jobStartOptions(noopInput(`jobwf-${seq++}`)),
        });
    } else if (variant === 'bare') {
      submitOne[variant] = () =>
        client.workflow.start(rawLocalWorkflow, { workflowId: `bare-${seq++}`, taskQueue: RAW_QUEUE, requestEagerStart: true });
    } else if (variant.startsWith('shape:')) {
      const parts = new Set(variant.slice('shape:'.length).split('+'));
      const has = (part: string) => parts.has(part) || parts.has('job');
      submitOne[variant] = () => {
        const workflowId = `shape-${seq++}`;
        const input = noopInput(workflowId);
        // The start argument and memo a job starts with (compact: see src/shared/start-input.ts).
        const { args: jobArgs, memo: jobMemo, typedSearchAttributes, staticSummary } = jobStartOptions(input);
        // `lean` (the session 18 experiment that pointed at bytes): the whole input less its retry
        // policy and timings, the memo less what the search attributes carry; without it, `args`
        // carries the whole input as jobs did before session 18 unless `compact` is a part too.
        const lean = parts.has('lean');
        const { timings: _t, retry: _r, ...leanInput } = input;
        const memo = lean ? { input: { parameters: {}, enqueueTime: input.enqueueTime } } : jobMemo;
        const argument = lean ? leanInput : parts.has('compact') ? jobArgs[0] : input;
        return client.workflow.start(rawJobShapedWorkflow, {
          workflowId,
          args: [
            {
              ...(has('args') ? argument : {}),
              enqueueTime: input.enqueueTime,
              upserts: has('upserts'),
              upsertMemo: parts.has('upsert-memo'),
              upsertStatus: parts.has('upsert-status'),
            },
          ],
          taskQueue: RAW_QUEUE,
          requestEagerStart: true,
          ...(has('memo') ? { memo } : {}),
          ...(has('sas') ? { typedSearchAttributes } : {}),
          ...(has('summary') ? { staticSummary } : {}),
        });
      };
    } else {
      throw new Error(`unknown variant ${variant}: bare, job, api, jobwf or shape:<args+memo+sas+summary+upserts|job>[+lean|+compact]`);
    }
  }
  const queueOf = (variant: string) => (['job', 'jobwf', 'api'].includes(variant) ? JOB_QUEUE : RAW_QUEUE);
  const closed = async (queue: string) => (await client.workflow.count(`TaskQueue = '${queue}' AND ExecutionStatus != 'Running'`)).count;

  /** One batch of a variant: submitted by C callers, done once visibility shows all of them closed. */
  async function batch(variant: string, n: number) {
    const queue = queueOf(variant);
    const before = await closed(queue);
    const t0 = performance.now();
    const cpu0 = { app: ownCpuSeconds(), server: cpuSeconds(serverPid), machine: machineStat().busy };
    const ops0 = await serverOps();
    const threads0 = opts.threads ? ownThreadCpuSeconds() : {};
    await pool(n, C, async () => {
      await submitOne[variant]!();
    });
    await until(async () => (await closed(queue)) - before >= n, 120_000, `${variant} batch to close`, 50);
    const seconds = (performance.now() - t0) / 1000;
    const ops1 = await serverOps();
    const ops = Object.fromEntries(Object.entries(ops1).map(([k, v]) => [k, (v - (ops0[k] ?? 0)) / n]));
    const threads = opts.threads
      ? Object.fromEntries(Object.entries(ownThreadCpuSeconds()).map(([k, v]) => [k, ((v - (threads0[k] ?? 0)) * 1000) / n]))
      : {};
    return {
      ops,
      threads,
      per_s: n / seconds,
      app: ((ownCpuSeconds() - cpu0.app) * 1000) / n,
      server: ((cpuSeconds(serverPid) - cpu0.server) * 1000) / n,
      machine: ((machineStat().busy - cpu0.machine) * 1000) / n,
    };
  }

  for (const variant of variants) await batch(variant, Number(opts.warmup));
  const samples: Record<
    string,
    { per_s: number; app: number; server: number; machine: number; ops: Record<string, number>; threads: Record<string, number> }[]
  > = {};
  for (let r = 0; r < Number(opts.rounds); r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) (samples[variant] ??= []).push(await batch(variant, BATCH));
  }
  const base = variants[0]!;
  const summary = variants.map((variant) => {
    const s = samples[variant]!;
    const pick = (k: 'per_s' | 'app' | 'server' | 'machine') => round(median(s.map((x) => x[k])), 2);
    // Against the first variant round by round: the pairs share their minute.
    const ratios = s.map((x, i) => x.per_s / samples[base]![i]!.per_s);
    const ratio = round(median(ratios), 3);
    const machineRatio = round(median(s.map((x, i) => x.machine / samples[base]![i]!.machine)), 3);
    return {
      variant,
      per_s: pick('per_s'),
      machine_ms: pick('machine'),
      server_ms: pick('server'),
      app_ms: pick('app'),
      rate_vs_first: ratio,
      rate_vs_first_range: `${round(Math.min(...ratios), 2)}–${round(Math.max(...ratios), 2)}`,
      machine_vs_first: machineRatio,
      ...(metricsPort ? { server_ops_per_job: medianOps(s.map((x) => x.ops)) } : {}),
      ...(opts.threads ? { app_thread_ms_per_job: medianOps(s.map((x) => x.threads)) } : {}),
    };
  });
  console.table(summary);
  console.log(JSON.stringify({ scenario: 'interleaved', batch: BATCH, rounds: Number(opts.rounds), variants: summary }));
  await api?.close();
  rawWorker.shutdown();
  await rawRunning;
  await jobWorker.shutdown();
  await connection.close();
  await server.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
