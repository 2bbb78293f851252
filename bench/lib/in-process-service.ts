import { Client } from '@temporalio/client';
import { buildJobService } from '../../src/api/serve-app.js';
import { registrySettings } from '../../src/config/config-schema.js';
import { loadConfig } from '../../src/config/load-config.js';
import { defaultJobRegistry } from '../../src/jobs/index.js';
import { createServiceLogger } from '../../src/logs/service-logger.js';
import { connectNative } from '../../src/temporal/connect.js';
import { temporalTarget } from '../../src/temporal/connection-options.js';
import { installQuietRuntime } from '../../src/temporal/install-runtime.js';
import { startWorker } from '../../src/worker/run-worker.js';

/**
 * `npm start` without its HTTP server, configured from the environment: the worker and the job
 * service on one native connection (eager starts), for the bench's in-process variants.
 */
export async function startInProcessService(logName: string) {
  installQuietRuntime('ERROR');
  const config = loadConfig();
  const target = temporalTarget(config);
  const connection = await connectNative(target);
  const client = new Client({ connection, namespace: target.namespace });
  const registry = defaultJobRegistry(registrySettings(config), undefined, { concurrencyLimits: config.job.concurrency_limits });
  const worker = await startWorker(config, target, client, registry, createServiceLogger(config.loggers, logName), connection);
  const { service } = buildJobService(config, client, registry, { eagerStart: config.temporal.eager_start });
  return { config, target, connection, client, registry, worker, service };
}
