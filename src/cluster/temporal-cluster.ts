import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { logChildOutput } from '../process/child-log.js';
import { join, resolve } from 'node:path';
import { portOpen, temporalAnswers } from '../temporal/dev-server.js';
import { exited, stopChild, tiedToThisProcess } from '../process/child-process.js';
import { pollUntil } from '../process/poll-until.js';
import { writeConfig } from './cluster-config.js';
import { prepareDatabases } from './cluster-databases.js';
import { ensureNamespace, ensureSearchAttributes } from './cluster-namespace.js';
import { CLUSTER_PORT_OFFSETS, ports, TEMPORAL_SERVICES, type TemporalService } from './cluster-services.js';
import type { Postgres } from './postgres.js';
import type { ServerTools } from './server-tools.js';

export interface TemporalClusterOptions {
  tools: ServerTools;
  /** The Temporal CLI, for operator commands. */
  cli: string;
  postgres: Postgres;
  /** Config, logs and pids live here. */
  dir: string;
  /** Frontend gRPC port; the other services take the ports after it. */
  frontendPort: number;
  historyShards: number;
  namespace: string;
  retentionDays: number;
  log: (line: string) => void;
}

export interface TemporalCluster {
  address: string;
  /** Start (or start again) one service; resolves once its process is up. */
  startService(service: TemporalService): ChildProcess;
  process(service: TemporalService): ChildProcess | undefined;
  stop(): Promise<void>;
}

/**
 * Temporal's own server on PostgreSQL with its four services as separate processes, the way a
 * production deployment runs them: schemas created and migrated by Temporal's SQL tool, more
 * than one history shard, visibility on PostgreSQL too.
 */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const dir = resolve(options.dir);
  for (const offset of CLUSTER_PORT_OFFSETS) {
    if (await portOpen('127.0.0.1', options.frontendPort + offset)) {
      throw new Error(
        `port ${options.frontendPort + offset} is taken: is another cluster running? (the cluster uses the frontend port + ${CLUSTER_PORT_OFFSETS.join(', +')})`,
      );
    }
  }
  mkdirSync(join(dir, 'config'), { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  prepareDatabases(options);
  writeConfig(options, dir);

  const children = new Map<TemporalService, ChildProcess>();
  let stopping = false;
  const startService = (service: TemporalService): ChildProcess => {
    // Tied to this process: a profile killed with SIGKILL leaves no Temporal service running.
    const [command, args] = tiedToThisProcess(options.tools.server, [
      '--root',
      dir,
      '--config',
      'config',
      '--env',
      'cluster',
      '--allow-no-auth',
      'start',
      '--service',
      service,
    ]);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
    logChildOutput(child, join(dir, 'logs', `${service}.log`));
    child.on('exit', (code, signal) => {
      if (!stopping && children.get(service) === child) options.log(`temporal ${service} exited (${signal ?? `code ${code}`})`);
    });
    children.set(service, child);
    return child;
  };
  const killAll = () => {
    for (const child of children.values()) child.kill('SIGKILL');
  };
  process.on('exit', killAll);

  const stop = async () => {
    stopping = true;
    process.off('exit', killAll);
    await Promise.all([...children.values()].map((child) => stopChild(child, 15_000)));
  };
  const address = `127.0.0.1:${options.frontendPort}`;
  try {
    // One at a time, each once it listens: on a fresh database the first one writes the cluster's
    // metadata, and services starting together race to insert it (one of them fails).
    const p = ports(options.frontendPort);
    for (const service of TEMPORAL_SERVICES) {
      const child = startService(service);
      // The worker service serves no gRPC of its own: it is up once it joins the membership ring.
      const port = service === 'worker' ? p[service].membership : p[service].grpc;
      await pollUntil(() => portOpen('127.0.0.1', port), {
        timeoutMs: 60_000,
        intervalMs: 200,
        timeoutMessage: () => `temporal ${service} does not listen on ${port} after 60 s`,
        failFast: () => {
          if (exited(child)) throw new Error(`temporal ${service} exited while starting; see ${clusterLogPath(dir, service)}`);
        },
      });
    }
    await pollUntil(() => temporalAnswers(address), {
      timeoutMs: 120_000,
      timeoutMessage: () => `the cluster's frontend did not answer at ${address} within 120 s`,
    });
    await ensureNamespace(address, options);
    await ensureSearchAttributes(address, options.namespace);
  } catch (err) {
    // Nothing it started outlives a failed start.
    await stop();
    throw err;
  }

  return {
    address,
    startService,
    process: (service) => children.get(service),
    stop,
  };
}

export function clusterLogPath(dir: string, service: TemporalService): string {
  return join(resolve(dir), 'logs', `${service}.log`);
}
