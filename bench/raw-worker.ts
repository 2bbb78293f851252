import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { workerClass } from '../src/worker/unwatched-worker.js';
import { installQuietRuntime } from '../src/temporal/install-runtime.js';
import { pool } from './lib/processes.js';
import { rawLocalWorkflow } from './raw-workflow.js';

/**
 * A plain Temporal worker with the job worker's slot counts (activities, local activities, workflow
 * tasks), for the raw scenario: a raw variant tuned worse than the job worker is no ceiling. With
 * RAW_SUBMIT_N it also starts that many local-activity workflows itself, through a client on the
 * worker's own connection, so the server can hand each first task straight back (eager start),
 * after RAW_WARMUP_N of them that are not measured.
 */
const RAW_WORKFLOWS_PATH = fileURLToPath(new URL('./raw-workflow.ts', import.meta.url));

async function main() {
  installQuietRuntime('ERROR');
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const taskQueue = process.env.RAW_TASK_QUEUE!;
  const worker = await workerClass(process.env.RAW_WORKFLOW_WATCHDOG === 'true').create({
    connection,
    taskQueue,
    workflowsPath: RAW_WORKFLOWS_PATH,
    // Loaded once per V8 context, as the job worker loads its workflows.
    bundlerOptions: { preloadModules: [RAW_WORKFLOWS_PATH] },
    activities: { noop: async () => undefined },
    maxConcurrentActivityTaskExecutions: Number(process.env.RAW_WORKERS ?? 10),
    // The job worker runs short jobs as local activities in as many slots as it runs jobs.
    maxConcurrentLocalActivityExecutions: Number(process.env.RAW_WORKERS ?? 10),
    maxConcurrentWorkflowTaskExecutions: Number(process.env.RAW_WORKFLOW_TASKS ?? 200),
  });
  process.once('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  const n = Number(process.env.RAW_SUBMIT_N ?? 0);
  if (n > 0) {
    const client = new Client({ connection });
    const prefix = process.env.RAW_ID_PREFIX!;
    const latencies: number[] = [];
    let eager = 0;
    const warmup = Number(process.env.RAW_WARMUP_N ?? 0);
    if (warmup > 0) {
      const handles: Promise<unknown>[] = [];
      await pool(warmup, Number(process.env.RAW_CALLERS ?? 32), async (i) => {
        const handle = await client.workflow.start(rawLocalWorkflow, {
          workflowId: `${prefix}-warm-${i}`,
          taskQueue,
          requestEagerStart: true,
        });
        handles.push(handle.result());
      });
      await Promise.all(handles);
    }
    // The CPU of its boot (bundling the workflows) and warm-up is not the variant's: the bench subtracts this.
    const { user, system } = process.cpuUsage();
    console.log(JSON.stringify({ boot_cpu_s: (user + system) / 1e6 }));
    await pool(n, Number(process.env.RAW_CALLERS ?? 32), async (i) => {
      const started = performance.now();
      const handle = await client.workflow.start(rawLocalWorkflow, { workflowId: `${prefix}-${i}`, taskQueue, requestEagerStart: true });
      latencies.push(performance.now() - started);
      if (handle.eagerlyStarted) eager += 1;
    });
    // One line the bench reads: submit latencies and how many starts went eager.
    console.log(JSON.stringify({ submitted: n, eager, latencies }));
  }
  await running;
  await connection.close();
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
