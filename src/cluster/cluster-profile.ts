import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { logChildOutput } from '../process/child-log.js';
import { join, resolve } from 'node:path';
import { locateTemporalCli } from '../temporal/locate-cli.js';
import { exited, stopChild, tiedToThisProcess } from '../process/child-process.js';
import { pollUntil } from '../process/poll-until.js';
import { preparePostgres, type Postgres } from './postgres.js';
import { locateServerTools } from './server-tools.js';
import { CLUSTER_PORT_OFFSETS } from './cluster-services.js';
import { startTemporalCluster, type TemporalCluster } from './temporal-cluster.js';
import { portOpen } from '../temporal/dev-server.js';
import { DEFAULT_CONFIG_DOCUMENT } from '../config/load-config.js';
import { keptSecret } from '../config/kept-secret.js';
import { freePort, freePortBlock } from '../process/free-port.js';

export interface ClusterProfileOptions {
  /** Everything the profile keeps (database, config, logs) lives here. @defaultValue ./data/cluster */
  dir?: string;
  workers?: number;
  apis?: number;
  /** The first API's port; the next APIs take the ports after it. @defaultValue 8180 */
  apiPort?: number;
  /** @defaultValue 17233 */
  frontendPort?: number;
  /** @defaultValue 5433 */
  postgresPort?: number;
  /** @defaultValue 4 */
  historyShards?: number;
  coreSecret: string;
  log: (line: string) => void;
}

export interface AppProcess {
  role: 'worker' | 'api';
  index: number;
  url?: string;
  child: ChildProcess;
}

export interface ClusterProfile {
  address: string;
  postgres: Postgres;
  temporal: TemporalCluster;
  apps: AppProcess[];
  apiUrls: string[];
  /** Start one API or worker process again (chaos: after a kill). */
  restartApp(app: AppProcess): AppProcess;
  stop(): Promise<void>;
}

/**
 * What a user who outgrows one machine runs: PostgreSQL, Temporal's four services as separate
 * processes, and several stateless worker and API processes of ours against them. Nothing in the
 * API changes; TEMPORAL_ADDRESS is the only difference for our processes.
 */
export async function startClusterProfile(options: ClusterProfileOptions): Promise<ClusterProfile> {
  const dir = resolve(options.dir ?? 'data/cluster');
  const { log } = options;
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const tools = await locateServerTools(log);
  const cli = await locateTemporalCli({ log });
  const apiPort = options.apiPort ?? 8180;
  const apiCount = options.apis ?? 2;
  // Before anything starts: a second profile on the same ports must not touch the first one's processes.
  for (let i = 0; i < apiCount; i++) {
    if (await portOpen('127.0.0.1', apiPort + i)) throw new Error(`port ${apiPort + i} (API ${i}) is taken: is another cluster running?`);
  }
  const postgres = preparePostgres({ dir: join(dir, 'pg'), port: options.postgresPort ?? 5433, log });
  // A PostgreSQL already running in this directory (another profile's, or one a killed profile
  // left) is used, and left running: only one this start started is stopped when it fails.
  const startedPostgres = await postgres.start();
  const stopOwnPostgres = () => (startedPostgres ? postgres.stop() : Promise.resolve());
  let temporal: TemporalCluster;
  try {
    temporal = await startTemporalCluster({
      tools,
      cli,
      postgres,
      dir: join(dir, 'temporal'),
      frontendPort: options.frontendPort ?? 17233,
      historyShards: options.historyShards ?? 4,
      namespace: 'default',
      retentionDays: 3,
      log,
    });
  } catch (err) {
    await stopOwnPostgres();
    throw err;
  }
  // The apps' configuration: job logs under the profile's directory, where workers write them and
  // APIs serve them; one sealing key for all (what an API seals, any worker opens), kept there as
  // `npm start` keeps its own, unless the operator's JOB_SERVICE_SEALING_KEYS gives theirs.
  const configPath = join(dir, 'jobservice.yaml');
  const sealingKeys = process.env.JOB_SERVICE_SEALING_KEYS
    ? []
    : [keptSecret(join(dir, 'sealing-key'), 32, () => log(`generated a key for job secrets, kept in ${join(dir, 'sealing-key')}`))];
  writeFileSync(
    configPath,
    JSON.stringify({
      ...DEFAULT_CONFIG_DOCUMENT,
      job_loggers: DEFAULT_CONFIG_DOCUMENT.job_loggers.map((logger) =>
        logger.name === 'FILE' ? { ...logger, settings: { base_dir: join(dir, 'job_logs') } } : logger,
      ),
      ...(sealingKeys.length > 0 ? { job: { sealing_keys: sealingKeys } } : {}),
    }),
  );
  // It holds the key: the operator's alone, whatever mode an earlier start left it with.
  chmodSync(configPath, 0o600);
  const spawnApp = (role: AppProcess['role'], index: number): AppProcess => {
    const env: NodeJS.ProcessEnv = {
      ...profileEnvironment(process.env),
      TEMPORAL_ADDRESS: temporal.address,
      CORE_SECRET: options.coreSecret,
      JOB_SERVICE_CONFIG: configPath,
    };
    if (role === 'api') env.JOB_SERVICE_PORT = String(apiPort + index);
    // Tied to this process: a profile killed with SIGKILL leaves no API or worker running.
    const [command, args] = tiedToThisProcess(process.execPath, ['--import', 'tsx', join('src', role, 'main.ts')]);
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    logChildOutput(child, join(dir, 'logs', `${role}-${index}.log`));
    // Not restarted (the chaos suite restarts what it kills), but never unnoticed.
    child.on('exit', (code, signal) => {
      if (!stopped) log(`${role} ${index} exited (${signal ?? `code ${code}`}); see ${join(dir, 'logs', `${role}-${index}.log`)}`);
    });
    const app: AppProcess = { role, index, child };
    if (role === 'api') app.url = `http://127.0.0.1:${apiPort + index}`;
    return app;
  };
  const apps: AppProcess[] = [];
  let stopped = false;
  for (let i = 0; i < (options.workers ?? 2); i++) apps.push(spawnApp('worker', i));
  for (let i = 0; i < apiCount; i++) apps.push(spawnApp('api', i));
  const killApps = () => {
    for (const app of apps) app.child.kill('SIGKILL');
  };
  process.on('exit', killApps);

  const profile: ClusterProfile = {
    address: temporal.address,
    postgres,
    temporal,
    apps,
    apiUrls: apps.filter((a) => a.role === 'api').map((a) => a.url!),
    restartApp(app) {
      // By role and index: a caller may hold the process it killed or one started since.
      const at = apps.findIndex((a) => a.role === app.role && a.index === app.index);
      if (stopped) throw new Error('the cluster profile is stopped');
      const next = spawnApp(app.role, app.index);
      apps[at] = next;
      return next;
    },
    async stop() {
      stopped = true;
      process.off('exit', killApps);
      await Promise.all(apps.map((app) => stopChild(app.child, 20_000)));
      await temporal.stop();
      await stopOwnPostgres();
    },
  };
  try {
    await waitForApis(profile.apiUrls, options.coreSecret, () => {
      const dead = apps.find((a) => exited(a.child));
      if (dead) throw new Error(`${dead.role} ${dead.index} exited while starting; see its log under ${join(dir, 'logs')}`);
    });
  } catch (err) {
    await profile.stop();
    throw err;
  }
  return profile;
}

/** The profile on ports free right now (tests, benches, chaos: beside anything else on the machine). */
export async function startClusterOnFreePorts(
  options: Omit<ClusterProfileOptions, 'apiPort' | 'frontendPort' | 'postgresPort'>,
): Promise<ClusterProfile> {
  return startClusterProfile({ ...options, ...(await freeClusterPorts(options.apis ?? 2)) });
}

/** Free ports for a profile: every API's (API i listens on apiPort + i), the frontend's block, PostgreSQL's. */
export async function freeClusterPorts(apis: number): Promise<{ apiPort: number; frontendPort: number; postgresPort: number }> {
  return {
    apiPort: await freePortBlock(Array.from({ length: apis }, (_, i) => i)),
    frontendPort: await freePortBlock(CLUSTER_PORT_OFFSETS),
    postgresPort: await freePort(),
  };
}

/**
 * The operator's environment less what would point the profile's processes elsewhere: its own
 * Temporal (address, namespace `default`, no TLS or API key), ports and configuration file.
 * Settings such as CORE_URL or JOB_SERVICE_SEALING_KEYS pass through.
 */
export function profileEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (/^TEMPORAL_/.test(key) || /^JOB_SERVICE_(CONFIG|PORT|HOST|PROTOCOL|HTTPS_)/.test(key)) continue;
    kept[key] = value;
  }
  return kept;
}

/** Waits until each API answers `/stats` (its worker pools are polling); `failFast` throws when a process died. */
export async function waitForApis(urls: string[], secret: string, failFast: () => void, timeoutMs = 120_000): Promise<void> {
  for (const url of urls) {
    await pollUntil(
      () =>
        fetch(`${url}/api/v1/stats`, { headers: { Authorization: `Harbor-Secret ${secret}` } })
          .then((r) => r.status === 200)
          .catch(() => false),
      { timeoutMs, failFast, timeoutMessage: () => `the API at ${url} is not healthy after ${timeoutMs / 1000} s` },
    );
  }
}
