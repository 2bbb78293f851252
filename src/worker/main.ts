import { registrySettings } from '../config/config-schema.js';
import { loadConfig } from '../config/load-config.js';
import { defaultJobRegistry } from '../jobs/index.js';
import { createServiceLogger } from '../logs/service-logger.js';
import { exitWhenDone, runUntilSignal } from '../process/run-until-signal.js';
import { connectClient } from '../temporal/connect.js';
import { temporalTarget } from '../temporal/connection-options.js';
import { installQuietRuntime, sdkLogLevel } from '../temporal/install-runtime.js';
import { registerSearchAttributes } from '../temporal/register-search-attributes.js';
import { startWorker } from './run-worker.js';

/** `npm run worker`: one stateless worker pool against the cluster at TEMPORAL_ADDRESS. */
async function main(): Promise<void> {
  const stopped = runUntilSignal();
  const config = loadConfig();
  installQuietRuntime(sdkLogLevel(config.loggers));
  const log = createServiceLogger(config.loggers, 'worker');
  const target = temporalTarget(config);
  const client = await connectClient(target);
  try {
    await registerSearchAttributes(client);
    const worker = await startWorker(
      config,
      target,
      client,
      defaultJobRegistry(registrySettings(config), undefined, { concurrencyLimits: config.job.concurrency_limits }),
      log,
    );
    log.info(`worker polling task queue ${target.taskQueue} on ${target.address} (${config.worker_pool.workers} slots)`);
    await Promise.race([stopped, worker.done]);
    log.info('shutting down');
    await worker.shutdown();
  } finally {
    await client.connection.close();
  }
}

exitWhenDone(main);
