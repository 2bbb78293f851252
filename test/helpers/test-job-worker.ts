/** `npm run worker` with the test jobs beside the real ones, for tests that kill a worker running them (spawnWorkerProcess). */
import { registrySettings } from '../../src/config/config-schema.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createServiceLogger } from '../../src/logs/service-logger.js';
import { exitWhenDone, runUntilSignal } from '../../src/process/run-until-signal.js';
import { connectClient } from '../../src/temporal/connect.js';
import { temporalTarget } from '../../src/temporal/connection-options.js';
import { installQuietRuntime } from '../../src/temporal/install-runtime.js';
import { startWorker } from '../../src/worker/run-worker.js';
import { notificationSettings } from '../../src/jobs/harbor/notification-jobs.js';
import { testRegistry } from './test-jobs.js';

async function main(): Promise<void> {
  const stopped = runUntilSignal();
  const config = loadConfig();
  installQuietRuntime('ERROR');
  const log = createServiceLogger(config.loggers, 'test-job-worker');
  const target = temporalTarget(config);
  const client = await connectClient(target);
  try {
    const registry = testRegistry(
      registrySettings(config),
      { ...notificationSettings({}), retryInitialMs: 200 },
      {
        concurrencyLimits: config.job.concurrency_limits,
      },
    );
    const worker = await startWorker(config, target, client, registry, log);
    await Promise.race([stopped, worker.done]);
    await worker.shutdown();
  } finally {
    await client.connection.close();
  }
}

exitWhenDone(main);
