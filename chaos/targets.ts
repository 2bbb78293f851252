import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startClusterOnFreePorts, waitForApis, type AppProcess, type ClusterProfile } from '../src/cluster/cluster-profile.js';
import { exited } from '../src/process/child-process.js';
import type { TemporalService } from '../src/cluster/cluster-services.js';
import { freePort } from '../src/process/free-port.js';

export const SECRET = 'chaos-secret-0123456789abcdef';

/** What a chaos case drives: APIs to call, where job logs land, and the faults it can inject. */
export interface Target {
  profile: 'embedded' | 'cluster';
  apiUrls: string[];
  jobLogDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedTarget extends Target {
  profile: 'embedded';
  /** The `npm start` process (its own process group). */
  main: ChildProcess;
  /** The Temporal dev server it runs (found anew after each restart). */
  serverPid(): number | undefined;
  /** An extra worker process against the embedded server (`npm run worker`). */
  extraWorker: ChildProcess;
  restartExtraWorker(): void;
}

export interface ClusterTarget extends Target {
  profile: 'cluster';
  cluster: ClusterProfile;
  workers(): AppProcess[];
  apis(): AppProcess[];
  service(service: TemporalService): ChildProcess | undefined;
}

/** `npm start` as a user runs it (supervised embedded server on SQLite), plus one extra worker process. */
export async function startEmbedded(dir: string): Promise<EmbeddedTarget> {
  mkdirSync(dir, { recursive: true });
  const apiPort = await freePort();
  const temporalPort = await freePort();
  const jobLogDir = resolve(dir, 'job_logs');
  const config = {
    port: apiPort,
    core_secret: SECRET,
    job_loggers: [{ name: 'FILE', level: 'INFO', settings: { base_dir: jobLogDir } }],
    loggers: [{ name: 'STD_OUTPUT', level: 'INFO' }],
    temporal: { dev_server: { port: temporalPort, ui_port: await freePort(), db_file: resolve(dir, 'temporal.db') } },
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config));
  const log = createWriteStream(join(dir, 'npm-start.log'), { flags: 'a' });
  const main = spawn(process.execPath, ['--import', 'tsx', 'src/start.ts', '-c', configPath], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  main.stdout?.pipe(log);
  main.stderr?.pipe(log);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  try {
    await waitForApis(
      [apiUrl],
      SECRET,
      () => {
        if (exited(main)) throw new Error(`npm start exited while starting; see ${join(dir, 'npm-start.log')}`);
      },
      180_000,
    );
  } catch (err) {
    // Its own process group, out of reach of a Ctrl-C: a start that failed must not leave it running.
    await stopGroup(main);
    throw err;
  }
  const workerConfig = join(dir, 'worker.json');
  writeFileSync(workerConfig, JSON.stringify({ ...config, temporal: { address: `127.0.0.1:${temporalPort}` } }));
  const spawnWorker = () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker/main.ts', '-c', workerConfig], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    return child;
  };
  const target: EmbeddedTarget = {
    profile: 'embedded',
    apiUrls: [apiUrl],
    jobLogDir,
    main,
    extraWorker: spawnWorker(),
    serverPid() {
      try {
        const out = execFileSync('pgrep', ['-P', String(main.pid), '-f', 'temporal server'], { encoding: 'utf8' }).trim();
        return Number(out.split('\n')[0]) || undefined;
      } catch {
        return undefined;
      }
    },
    restartExtraWorker() {
      target.extraWorker = spawnWorker();
    },
    async stop() {
      target.extraWorker.kill('SIGTERM');
      await stopGroup(main);
    },
  };
  return target;
}

/** `npm run cluster`: PostgreSQL, four Temporal services, two workers and two APIs. */
export async function startCluster(dir: string): Promise<ClusterTarget> {
  mkdirSync(dir, { recursive: true });
  // PostgreSQL runs as its own user, which must reach its data directory inside this one.
  chmodSync(dir, 0o755);
  const cluster = await startClusterOnFreePorts({
    dir,
    workers: 2,
    apis: 2,
    coreSecret: SECRET,
    log: (line) => console.log(`  cluster: ${line}`),
  });
  return {
    profile: 'cluster',
    cluster,
    apiUrls: cluster.apiUrls,
    // The profile keeps its processes' job logs under its directory.
    jobLogDir: join(dir, 'job_logs'),
    workers: () => cluster.apps.filter((a) => a.role === 'worker'),
    apis: () => cluster.apps.filter((a) => a.role === 'api'),
    service: (service) => cluster.temporal.process(service),
    stop: () => cluster.stop(),
  };
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((done) => child.once('exit', () => done()));
  process.kill(-child.pid!, 'SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 20_000);
  await gone;
  clearTimeout(timer);
}
