/**
 * `npm run bench:paced-floor -- --rate 56 --seconds 20 --rounds 3`: the paced submit tail of the
 * engine itself against the job's, at one rate, on one server and in one process. The `paced`
 * scenario of `npm run bench` asks submit p99 < 20 ms of the API at half the burst's rate; this says
 * how much of that tail is Temporal's own. Variants, each open loop at `--rate` for `--seconds`,
 * in turn (the order reversed every round), on one dev server (a fresh SQLite file, as npm start):
 *
 * - `bare`: the raw local-activity workflow started eagerly on the worker's own connection (the
 *   best raw variant of the `raw` scenario), timed to the start's answer;
 * - `job`: a NOOP job submitted to the job service as the submit route calls it, without HTTP;
 * - `api`: the same through the REST facade, posted to from this process;
 * - `stub`: the REST facade (auth, body limit, OpenAPI validation, the job service and gateway)
 *   with a client whose start answers at once (as bench/http-only-api.ts), posted to the same way;
 * - `http`: a bare Node HTTP server answering at once, posted to the same way (the hop's floor).
 *
 * Each slice waits for its workflows to finish before the next begins. Server collections (Go's
 * gctrace) are counted per variant, and the p99 of the submits outside them is given beside the p99.
 */
import { createServer } from 'node:http';
import { serve } from '@hono/node-server';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { workerClass } from '../src/worker/unwatched-worker.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { locateTemporalCli } from '../src/temporal/locate-cli.js';
import { freePort } from '../src/process/free-port.js';
import { paced, until } from './lib/processes.js';
import { postJobTimed } from './lib/http-post.js';
import { serverGcRecorder, submitsDuringGc, withGcTrace } from './lib/server-gc.js';
import { percentile, round } from './lib/stats.js';
import { rawLocalWorkflow } from './raw-workflow.js';
import { stubFacade } from './lib/stub-facade.js';

const { values: opts } = parseArgs({
  options: {
    variants: { type: 'string', default: 'bare,job,api,stub,http' },
    rate: { type: 'string', default: '56' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    /** Jobs and bare workflows started flat out before the first slice (JIT, first activations). */
    warmup: { type: 'string', default: '300' },
  },
});
const RATE = Number(opts.rate);
const SECONDS = Number(opts.seconds);
const ROUNDS = Number(opts.rounds);
const SLOW_MS = 20;
const RAW_QUEUE = 'floor-raw';
const JOB_QUEUE = 'floor-job';
const SECRET = 'floor-secret';
const RAW_WORKFLOWS_PATH = fileURLToPath(new URL('./raw-workflow.ts', import.meta.url));

async function main() {
  const variants = opts.variants.split(',');
  const dir = mkdtempSync(join(tmpdir(), 'jobservice-paced-floor-'));
  const cli = await locateTemporalCli({ log: (l) => console.error(l) });
  const gcs = serverGcRecorder();
  const server = await startDevServer({
    cli,
    ip: '127.0.0.1',
    port: await freePort(),
    dbFile: join(dir, 'temporal.db'),
    log: gcs.log,
    env: { GODEBUG: withGcTrace(process.env.GODEBUG) },
  });
  const configPath = join(dir, 'paced-floor.yaml');
  writeFileSync(
    configPath,
    JSON.stringify({
      job_loggers: [{ name: 'FILE', level: 'INFO', settings: { base_dir: join(dir, 'logs') } }],
      loggers: [{ name: 'STD_OUTPUT', level: 'ERROR' }],
    }),
  );
  const apiPort = await freePort();
  Object.assign(process.env, {
    TEMPORAL_ADDRESS: server.address,
    JOB_SERVICE_CONFIG: configPath,
    JOB_SERVICE_TASK_QUEUE: JOB_QUEUE,
    CORE_SECRET: SECRET,
    JOB_SERVICE_PORT: String(apiPort),
  });
  // The service's modules read their configuration as they load, after the environment is set.
  const { startInProcessService } = await import('./lib/in-process-service.js');
  const { serveApi, jobTimings } = await import('../src/api/serve-app.js');
  const { JobRequestSchema } = await import('../src/api/contract.js');
  const { config, connection, client, registry, service } = await startInProcessService('paced-floor');
  await serveApi(config, client, registry, { eagerStart: config.temporal.eager_start });
  const rawWorker = await workerClass(config.worker_pool.workflow_watchdog).create({
    connection,
    taskQueue: RAW_QUEUE,
    workflowsPath: RAW_WORKFLOWS_PATH,
    bundlerOptions: { preloadModules: [RAW_WORKFLOWS_PATH] },
    activities: { noop: async () => undefined },
    maxConcurrentActivityTaskExecutions: config.worker_pool.workers,
    maxConcurrentLocalActivityExecutions: config.worker_pool.workers,
    maxConcurrentWorkflowTaskExecutions: config.worker_pool.workflow_tasks,
  });
  void rawWorker.run();
  const httpPort = await freePort();
  const floorServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ job: { id: '0'.repeat(24), status: 'Pending' } }));
    });
  });
  await new Promise<void>((resolve) => floorServer.listen(httpPort, '127.0.0.1', resolve));

  const stubPort = await freePort();
  serve({ fetch: stubFacade(registry, jobTimings(config), SECRET).fetch, port: stubPort, hostname: '127.0.0.1' });

  const body = JSON.stringify({ job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } } });
  const headers = { authorization: `Harbor-Secret ${SECRET}`, 'content-type': 'application/json' };
  let seq = 0;
  const submit: Record<string, () => Promise<unknown>> = {
    bare: () => client.workflow.start(rawLocalWorkflow, { workflowId: `floor-${seq++}`, taskQueue: RAW_QUEUE, requestEagerStart: true }),
    job: () => service.submit(JobRequestSchema.parse(JSON.parse(body)).job),
    api: () => postJobTimed(`http://127.0.0.1:${apiPort}/api/v1/jobs`, headers, body),
    stub: () => postJobTimed(`http://127.0.0.1:${stubPort}/api/v1/jobs`, headers, body),
    http: () => postJobTimed(`http://127.0.0.1:${httpPort}/api/v1/jobs`, headers, body),
  };
  for (const v of variants) if (!submit[v]) throw new Error(`--variants: no variant ${v} (${Object.keys(submit).join(', ')})`);
  const running = `TaskQueue IN ('${RAW_QUEUE}', '${JOB_QUEUE}') AND ExecutionStatus = 'Running'`;
  const drained = () => until(async () => (await client.workflow.count(running)).count === 0, 300_000, 'the slice to finish', 200);

  const warmup = Number(opts.warmup);
  for (const v of ['bare', 'job']) {
    let left = warmup;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (left-- > 0) await submit[v]!();
      }),
    );
  }
  await drained();

  /** Each variant's slices, each submit as [epoch ms sent, latency ms]. */
  const slices: Record<string, [number, number][][]> = Object.fromEntries(variants.map((v) => [v, []]));
  const p99 = (submits: [number, number][]) =>
    round(
      percentile(
        submits.map(([, ms]) => ms),
        0.99,
      ),
    );
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const slice: [number, number][] = [];
      await paced(Math.round(RATE * SECONDS), RATE, async () => {
        const t = performance.now();
        await submit[v]!();
        slice.push([Math.round(performance.timeOrigin + t), performance.now() - t]);
      });
      await drained();
      slices[v]!.push(slice);
      console.error(`round ${r + 1} ${v}: p99 ${p99(slice)} ms`);
    }
  }

  const rows = variants.map((v) => {
    const ms = slices[v]!.flat().map(([, l]) => l);
    const gc = slices[v]!.map((s) => submitsDuringGc(s, gcs.collections, SLOW_MS)!);
    const outside = gc.flatMap((g) => g.outside);
    return {
      variant: v,
      n: ms.length,
      p50_ms: round(percentile(ms, 0.5)),
      p90_ms: round(percentile(ms, 0.9)),
      p99_ms: round(percentile(ms, 0.99)),
      p99_per_slice_ms: slices[v]!.map(p99).join(' '),
      over_20ms_pct: round((100 * ms.filter((l) => l >= SLOW_MS).length) / ms.length, 2),
      server_gcs: gc.reduce((sum, g) => sum + g.collections, 0),
      p99_outside_server_gc_ms: round(percentile(outside, 0.99)),
    };
  });
  console.table(rows);
  console.log(JSON.stringify({ scenario: 'paced-floor', rate_per_s: RATE, seconds: SECONDS, rounds: ROUNDS, variants: rows }));
  floorServer.close();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
