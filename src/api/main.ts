import { registrySettings } from '../config/config-schema.js';
import { loadConfig } from '../config/load-config.js';
import { defaultJobRegistry } from '../jobs/index.js';
import { createServiceLogger } from '../logs/service-logger.js';
import { connectClient } from '../temporal/connect.js';
import { temporalTarget } from '../temporal/connection-options.js';
import { registerSearchAttributes } from '../temporal/register-search-attributes.js';
import { serveApi } from './serve-app.js';
import { exitWhenDone, runUntilSignal } from '../process/run-until-signal.js';

/** `npm run api`: one stateless API process against the cluster at TEMPORAL_ADDRESS. */
async function main(): Promise<void> {
  const stopped = runUntilSignal();
  const config = loadConfig();
  const log = createServiceLogger(config.loggers, 'api');
  const client = await connectClient(temporalTarget(config));
  try {
    await registerSearchAttributes(client);
    const api = await serveApi(
      config,
      client,
      defaultJobRegistry(registrySettings(config), undefined, { concurrencyLimits: config.job.concurrency_limits }),
    );
    log.info(`API listening on ${api.url}/api/v1`);
    void api.policiesRefreshed.then((n) => n > 0 && log.info(`${n} periodic job(s) brought to today's configuration and job types`));
    await stopped;
    log.info('shutting down');
    await api.close();
  } finally {
    await client.connection.close();
  }
}

exitWhenDone(main);
