import { nowSec } from '../shared/time.js';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { Worker, type InjectedSinks, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { createSealer } from '../secrets/sealer.js';
import { BackgroundWork } from '../process/background-work.js';
import { createGateReader } from '../queues/gate-reader.js';
import type { Config } from '../config/config-schema.js';
import type { JobRegistry } from '../jobs/job-registry.js';
import { createJobLoggerFactory, fileLogDir, fileLogDirs } from '../logs/job-loggers.js';
import { encodePoolIdentity } from '../shared/pool-identity.js';
import { housekeepingQueue, queueingQueue } from '../shared/task-queues.js';
import { JobMetrics } from '../metrics/job-metrics.js';
import type { JobSinks } from '../workflows/job-sinks.js';
import { workerClass } from './unwatched-worker.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Our workflow modules are loaded once per worker thread and shared by every workflow in its V8
 * context, not evaluated again for each run (the SDK's default for a reused context): a NOOP job
 * spent a tenth of its workflow thread's time loading them. They hold no state of their own at
 * module level, and the SDK freezes what they export. For a prebuilt bundle, pass these to
 * `bundleWorkflowCode` too.
 */
export const WORKFLOW_BUNDLER_OPTIONS = { preloadModules: [WORKFLOWS_PATH] };

export interface JobWorkerDeps {
  config: Config;
  connection: NativeConnection;
  client: Client;
  registry: JobRegistry;
  taskQueue: string;
  namespace: string;
  /** A prebuilt workflow bundle; without one the worker bundles the workflows at start. */
  workflowBundlePath?: string;
}

/**
 * One worker pool: runs job workflows and up to `worker_pool.workers` jobs at once, plus a second
 * Temporal worker on the housekeeping queue for status hooks and history pruning, and a third that
 * gets limited runs in line.
 */
export async function createJobWorker(
  deps: JobWorkerDeps,
): Promise<{ workers: Worker[]; metrics: JobMetrics; background: BackgroundWork }> {
  const { config } = deps;
  const pool = {
    poolId: randomBytes(6).toString('hex'),
    startedAt: nowSec(),
    concurrency: config.worker_pool.workers,
    host: `${hostname()}:${process.pid}`,
  };
  const identity = encodePoolIdentity(pool);
  const metrics = new JobMetrics({ node: pool.host, pool: pool.poolId, workers: pool.concurrency });
  const background = new BackgroundWork();
  const activities = createActivities({
    background,
    metrics,
    registry: deps.registry,
    client: deps.client,
    loggers: createJobLoggerFactory(config.job_loggers),
    properties: config.job_properties,
    checkinMinIntervalMs: config.job.checkin_min_interval_ms,
    heartbeatIntervalMs: 1000,
    runningReportDelayMs: config.job.running_report_delay_ms,
    logDir: fileLogDir(config.job_loggers),
    logDirs: fileLogDirs(config.job_loggers),
    gates: createGateReader(deps.client),
    stopGraceMs: config.job.stop_grace_seconds * 1000,
    ...(config.job.hook_secret ? { hookSecret: config.job.hook_secret } : {}),
    hookAllowedHosts: config.job.hook_allowed_hosts,
    sealer: createSealer(config.job.sealing_keys),
  });
  const bundle = deps.workflowBundlePath ?? process.env.JOBSERVICE_WORKFLOW_BUNDLE;
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'bundlerOptions'> =
    bundle && existsSync(bundle)
      ? { workflowBundle: { codePath: bundle } }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: WORKFLOW_BUNDLER_OPTIONS };
  const jobs = await workerClass(config.worker_pool.workflow_watchdog).create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    identity,
    ...workflows,
    // deleteSupersededRuns runs as a local activity of a reset job (see replaced-runs.ts).
    activities: { executeJob: activities.executeJob, deleteSupersededRuns: activities.deleteSupersededRuns },
    maxConcurrentActivityTaskExecutions: config.worker_pool.workers,
    // Short jobs run as local activities: the same number of slots.
    maxConcurrentLocalActivityExecutions: config.worker_pool.workers,
    maxConcurrentWorkflowTaskExecutions: config.worker_pool.workflow_tasks,
    // A fan-out job's end, counted in Harbor's task metrics (job-sinks.ts); a replay counts nothing again.
    sinks: {
      jobMetrics: {
        fanOutEnded: { fn: (_info, type, status, seconds) => metrics.recordRun(type, status, seconds), callDuringReplay: false },
      },
    } satisfies InjectedSinks<JobSinks>,
    // Cancellation reaches an activity only with a heartbeat; send them at least every second.
    maxHeartbeatThrottleInterval: '1s',
    // On shutdown running jobs get 5 s to return, then their cancellation; a job that ignores it
    // is cut loose 10 s later and its run is retried by another worker after the heartbeat timeout.
    shutdownGraceTime: '5s',
    shutdownForceTime: '10s',
  });
  const housekeeping = await Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: housekeepingQueue(deps.taskQueue),
    identity,
    activities: {
      deliverHook: activities.deliverHook,
      pruneExecutions: activities.pruneExecutions,
      pruneBatchExecutions: activities.pruneBatchExecutions,
      // Runs that got in line before the queueing queue existed still have their task here.
      enterQueue: activities.enterQueue,
      checkScheduleHealth: activities.checkScheduleHealth,
      windUpReplacedTargets: activities.windUpReplacedTargets,
      outwaitReplacedRun: activities.outwaitReplacedRun,
      readClosedTarget: activities.readClosedTarget,
    },
    maxConcurrentActivityTaskExecutions: config.worker_pool.housekeeping_workers,
    maxHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: '5s',
  });
  // Getting in line is one short call to Temporal: it must never wait behind a slow hook receiver.
  const queueing = await Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: queueingQueue(deps.taskQueue),
    identity,
    activities: { enterQueue: activities.enterQueue },
    maxConcurrentActivityTaskExecutions: config.worker_pool.housekeeping_workers,
    shutdownGraceTime: '5s',
  });
  return { workers: [jobs, housekeeping, queueing], metrics, background };
}
