import { serveApi, type RunningApi } from './api/serve-app.js';
import { registrySettings, type Config } from './config/config-schema.js';
import { loadConfig } from './config/load-config.js';
import { defaultJobRegistry } from './jobs/index.js';
import { createServiceLogger } from './logs/service-logger.js';
import { exitWhenDone, runUntilSignal } from './process/run-until-signal.js';
import { keptSecret } from './config/kept-secret.js';
import { Client } from '@temporalio/client';
import { connectNative } from './temporal/connect.js';
import { temporalTarget } from './temporal/connection-options.js';
import { superviseDevServer, type SupervisedDevServer } from './temporal/dev-server-supervisor.js';
import { locateTemporalCli } from './temporal/locate-cli.js';
import { installQuietRuntime, sdkLogLevel } from './temporal/install-runtime.js';
import { registerSearchAttributes } from './temporal/register-search-attributes.js';
import { startWorker, type RunningWorker } from './worker/run-worker.js';

const DEV_SECRET_FILE = 'data/dev-core-secret';
const DEV_SEALING_KEY_FILE = 'data/dev-sealing-key';

/**
 * `npm start`: everything on one machine — the embedded Temporal dev server (SQLite under ./data)
 * unless TEMPORAL_ADDRESS names a cluster, one worker pool, the API and the Web UI.
 */
async function main(): Promise<void> {
  const stopped = runUntilSignal();
  const startedAt = Date.now();
  const loaded = loadConfig();
  installQuietRuntime(sdkLogLevel(loaded.loggers));
  const log = createServiceLogger(loaded.loggers, 'start');
  let config: Config = loaded.core_secret
    ? loaded
    : {
        ...loaded,
        core_secret: keptSecret(DEV_SECRET_FILE, 18, (secret) =>
          log.info(`CORE_SECRET is not set; generated a dev secret (kept in ${DEV_SECRET_FILE}): ${secret}`),
        ),
      };
  // On the embedded server this process is the only worker and API: a key of its own under ./data
  // keeps job secrets out of the histories the Web UI shows. Against a cluster every process must
  // share the keys, so they come from the configuration only.
  if (config.job.sealing_keys.length === 0 && !config.temporal.address) {
    const key = keptSecret(DEV_SEALING_KEY_FILE, 32, () =>
      log.info(`job.sealing_keys is not set; generated a key for job secrets (kept in ${DEV_SEALING_KEY_FILE})`),
    );
    config = { ...config, job: { ...config.job, sealing_keys: [key] } };
  } else if (config.job.sealing_keys.length === 0) {
    log.warning('job.sealing_keys is not set: secrets in job parameters are stored as given in Temporal histories');
  }

  let devServer: SupervisedDevServer | undefined;
  let address = config.temporal.address;
  if (!address) {
    const cli = await locateTemporalCli({ log: (line) => log.info(line) });
    const dev = config.temporal.dev_server;
    // Supervised: if the server dies, it comes back on the same file and every accepted job goes on.
    devServer = await superviseDevServer(
      {
        cli,
        ip: dev.ip,
        port: dev.port,
        uiPort: dev.ui_port,
        dbFile: dev.db_file,
        synchronous: dev.sqlite_synchronous,
        goGc: dev.go_gc,
        goMemoryLimit: dev.go_memory_limit,
        visibilityIndexes: dev.visibility_indexes,
        notice: (line) => log.info(line),
        namespace: config.temporal.namespace,
        ownProcessGroup: true,
      },
      { log: (line) => log.warning(line) },
    );
    address = devServer.address;
    log.info(`Temporal dev server at ${address} (state in ${dev.db_file})`);
  }

  const target = temporalTarget(config, address);
  // API and worker share one native connection: a submit asks for an eager start, and Temporal
  // hands the job's first workflow task straight to this process's worker when it has a free slot.
  const connection = await connectNative(target);
  const client = new Client({ connection, namespace: target.namespace });
  const registry = defaultJobRegistry(registrySettings(config), undefined, { concurrencyLimits: config.job.concurrency_limits });
  let worker: RunningWorker | undefined;
  let api: RunningApi | undefined;
  try {
    await registerSearchAttributes(client);
    worker = await startWorker(config, target, client, registry, log, connection);
    api = await serveApi(config, client, registry, { eagerStart: config.temporal.eager_start });
    void api.policiesRefreshed.then((n) => n > 0 && log.info(`${n} periodic job(s) brought to today's configuration and job types`));
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    log.info(`ready in ${seconds}s`);
    log.info(`API:    ${api.url}/api/v1   (health: ${api.url}/api/v1/stats)`);
    if (devServer?.uiUrl) log.info(`Web UI: ${devServer.uiUrl}/namespaces/${target.namespace}/workflows`);
    log.info('Ctrl-C stops everything.');

    // A server that keeps dying ends the process non-zero, for a process manager to take over.
    // (Against a cluster there is no dev server: a bare `undefined` in the race would end it at once.)
    await Promise.race([stopped, worker.done, ...(devServer ? [devServer.gaveUp] : [])]);
    log.info('stopping…');
  } finally {
    // Whatever ended the run, its error is the one reported: the winding down never replaces it.
    // The worker lets go of the shared connection before it closes (closing it first throws).
    await api?.close().catch(() => undefined);
    await worker?.shutdown().catch(() => undefined);
    await connection.close().catch(() => undefined);
    await devServer?.stop();
  }
}

exitWhenDone(main);
