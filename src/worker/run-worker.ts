import type { Client } from '@temporalio/client';
import type { Config } from '../config/config-schema.js';
import type { JobRegistry } from '../jobs/job-registry.js';
import { startLogSweeper, sweeperTargets } from '../logs/log-sweeper.js';
import { idsAmong } from '../temporal/ids-among.js';
import type { ServiceLogger } from '../logs/service-logger.js';
import type { NativeConnection } from '@temporalio/worker';
import { connectNative } from '../temporal/connect.js';
import type { TemporalTarget } from '../temporal/connection-options.js';
import { createJobWorker } from './create-worker.js';
import { applyQueueLimits } from '../queues/queue-client.js';
import { serveMetrics } from '../metrics/metrics-server.js';

export interface RunningWorker {
  /** Settles when the worker has stopped (after `shutdown()` or a fatal error). */
  done: Promise<void>;
  /** Where this process serves its metrics, when `metric.enabled`. */
  metricsUrl?: string;
  shutdown(): Promise<void>;
}

/** Start a worker pool and the job log sweeper. */
export async function startWorker(
  config: Config,
  target: TemporalTarget,
  client: Client,
  registry: JobRegistry,
  log: ServiceLogger,
  /** A connection the caller owns and closes (shared with its client for eager starts); else one of its own. */
  shared?: NativeConnection,
): Promise<RunningWorker> {
  const connection = shared ?? (await connectNative(target));
  const { workers, metrics, background } = await createJobWorker({
    config,
    connection,
    client,
    registry,
    taskQueue: target.taskQueue,
    namespace: target.namespace,
  });
  // Runs already waiting in a type's queue follow today's limit of the type (not fatal: a run
  // entering the queue sets it too).
  await applyQueueLimits(client, target.taskQueue, new Map(registry.names().map((name) => [name, registry.concurrencyLimit(name)]))).catch(
    (err: unknown) => log.warning(`could not give the job queues today's limits: ${(err as Error).message}`),
  );
  const stopSweepers = sweeperTargets(config.job_loggers).map((sweeper) =>
    startLogSweeper(
      sweeper.dir,
      sweeper.days,
      (err) => log.warning(`log sweep failed: ${(err as Error).message}`),
      // Of old logs' jobs, those whose workflow is still open.
      (ids) => idsAmong(client, ids, "ExecutionStatus = 'Running'"),
    ),
  );
  const stopSweeper = () => Promise.all(stopSweepers.map((stop) => stop()));
  // Harbor's `metric` section: this process's task counters, for Prometheus to scrape.
  const metricsServer = config.metric.enabled
    ? await serveMetrics(metrics, config.host, config.metric.port, config.metric.path)
    : undefined;
  if (metricsServer) log.info(`metrics at http://${config.host}:${metricsServer.port}${config.metric.path}`);
  const runs = workers.map((worker) =>
    worker.run().catch((err: unknown) => {
      if ((err as Error).name !== 'GracefulShutdownPeriodExpiredError') throw err;
      log.warning('some jobs ignored the shutdown; they were abandoned and will run again elsewhere');
    }),
  );
  // One worker failing takes the other down with it: a process is healthy whole or not at all.
  const done = Promise.all(
    runs.map((run) =>
      run.catch((err: unknown) => {
        for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
        throw err;
      }),
    ),
  )
    .then(() => undefined)
    .finally(async () => {
      await stopSweeper();
      await background.close();
      await metricsServer?.close();
      if (!shared) await connection.close();
    });
  return {
    done,
    ...(metricsServer ? { metricsUrl: `http://${config.host}:${metricsServer.port}${config.metric.path}` } : {}),
    async shutdown() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
