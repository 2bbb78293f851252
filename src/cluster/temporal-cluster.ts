import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { JOB_SEARCH_ATTRIBUTES } from '../shared/search-attributes.js';
import { registerSearchAttributes } from '../temporal/register-search-attributes.js';
import { DEV_SERVER_DYNAMIC_CONFIG, portOpen, temporalAnswers } from '../temporal/dev-server.js';
import { exited, stopChild } from '../process/child-process.js';
import { pollUntil } from '../process/poll-until.js';
import type { Postgres } from './postgres.js';
import type { ServerTools } from './server-tools.js';

export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

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

const DB_USER = 'temporal';
const DB_PASSWORD = 'temporal';

/** Offsets from the frontend's gRPC port of every port the cluster listens on. */
export const CLUSTER_PORT_OFFSETS = [0, 1, 2, 6, 100, 101, 102, 106] as const;

/** Each service's gRPC and membership ports, from the frontend's. */
function ports(frontendPort: number): Record<TemporalService, { grpc: number; membership: number }> {
  return {
    frontend: { grpc: frontendPort, membership: frontendPort + 100 },
    history: { grpc: frontendPort + 1, membership: frontendPort + 101 },
    matching: { grpc: frontendPort + 2, membership: frontendPort + 102 },
    worker: { grpc: frontendPort + 6, membership: frontendPort + 106 },
  };
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
    const out = createWriteStream(join(dir, 'logs', `${service}.log`), { flags: 'a' });
    const child = spawn(
      options.tools.server,
      ['--root', dir, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start', '--service', service],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir },
    );
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
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

/** Databases and schemas, created once and migrated to this server version on every start (idempotent). */
function prepareDatabases({ tools, postgres, log }: TemporalClusterOptions): void {
  const role = postgres.sql(`SELECT 1 FROM pg_roles WHERE rolname = '${DB_USER}'`);
  if (role !== '1') postgres.sql(`CREATE ROLE ${DB_USER} LOGIN CREATEDB PASSWORD '${DB_PASSWORD}'`);
  for (const [database, schema] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const sqlTool = (...args: string[]) => {
      const result = spawnSync(
        tools.sqlTool,
        [
          '--plugin',
          'postgres12',
          '--ep',
          '127.0.0.1',
          '-p',
          String(postgres.port),
          '-u',
          DB_USER,
          '--pw',
          DB_PASSWORD,
          '--db',
          database,
          ...args,
        ],
        { encoding: 'utf8' },
      );
      if (result.status !== 0)
        throw new Error(`temporal sql tool ${args.join(' ')} on ${database} failed: ${result.stderr || result.stdout}`);
    };
    const exists = postgres.sql(`SELECT 1 FROM pg_database WHERE datname = '${database}'`) === '1';
    if (!exists) {
      log(`creating database ${database} and its schema`);
      sqlTool('create-database');
      sqlTool('setup-schema', '-v', '0.0');
    }
    sqlTool('update-schema', '-d', join(tools.schemaDir, schema, 'versioned'));
  }
}

function writeConfig(options: TemporalClusterOptions, dir: string): void {
  const p = ports(options.frontendPort);
  const store = (database: string, maxConns: number) => `
      sql:
        pluginName: "postgres12"
        databaseName: "${database}"
        connectAddr: "127.0.0.1:${options.postgres.port}"
        connectProtocol: "tcp"
        user: "${DB_USER}"
        password: "${DB_PASSWORD}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (name: TemporalService) => `
  ${name}:
    rpc:
      grpcPort: ${p[name].grpc}
      membershipPort: ${p[name].membership}
      bindOnLocalHost: true`;
  const yaml = `# Written by npm run cluster; edits are overwritten on the next start.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${options.historyShards}
  datastores:
    postgres-default:${store('temporal', 20)}
    postgres-visibility:${store('temporal_visibility', 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:${TEMPORAL_SERVICES.map(service).join('')}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${options.frontendPort}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "${join(dir, 'config', 'dynamicconfig.yaml')}"
  pollInterval: "10s"
`;
  writeFileSync(join(dir, 'config', 'cluster.yaml'), yaml);
  writeFileSync(join(dir, 'config', 'dynamicconfig.yaml'), dynamicConfigYaml());
}

/**
 * The embedded server's dynamic config, plus what a cluster needs on top: list and count calls
 * (the API's lists, /stats, queues) go through the visibility rate limit, 10/s by default.
 */
function dynamicConfigYaml(): string {
  const values: Record<string, string> = {
    ...DEV_SERVER_DYNAMIC_CONFIG,
    'frontend.namespaceRPS.visibility': '1000',
    'frontend.namespaceBurstRatio.visibility': '2',
  };
  return Object.entries(values)
    .map(([key, value]) => `${key}:\n  - value: ${value}\n`)
    .join('');
}

/** The namespace, registered once; the frontend may need a moment before it knows a new one. */
async function ensureNamespace(address: string, options: TemporalClusterOptions): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const known = async () => {
      try {
        await connection.workflowService.describeNamespace({ namespace: options.namespace });
        return true;
      } catch {
        return false;
      }
    };
    if (!(await known())) {
      options.log(`registering namespace ${options.namespace}`);
      // The operator's own tool, as a human would: the proto's int64 retention needs no Long here.
      const result = spawnSync(
        options.cli,
        [
          'operator',
          'namespace',
          'create',
          '--namespace',
          options.namespace,
          '--retention',
          `${options.retentionDays * 24}h`,
          '--address',
          address,
        ],
        { encoding: 'utf8' },
      );
      if (result.status !== 0 && !/already/i.test(result.stderr + result.stdout)) {
        throw new Error(`could not register namespace ${options.namespace}: ${result.stderr || result.stdout}`);
      }
    }
    await pollUntil(known, { timeoutMs: 60_000, timeoutMessage: () => `namespace ${options.namespace} did not become visible` });
  } finally {
    await connection.close();
  }
}

/**
 * The job search attributes, registered and usable: on SQL visibility a new attribute reaches the
 * frontend's namespace cache a few seconds after it is added, and a start naming it fails until then.
 */
async function ensureSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  try {
    let last: unknown;
    await pollUntil(
      async () => {
        try {
          // The operator service's namespace cache may not know a namespace registered a moment ago.
          await registerSearchAttributes(client);
          const probe = await client.workflow.start('JobserviceSearchAttributeProbe', {
            taskQueue: 'jobservice-probe',
            workflowId: `jobservice-probe-${Date.now()}`,
            typedSearchAttributes: JOB_SEARCH_ATTRIBUTES.map((key) => ({ key, value: 'probe' })),
          });
          await probe.terminate('search attributes are usable');
          return true;
        } catch (err) {
          last = err;
          return false;
        }
      },
      { timeoutMs: 60_000, timeoutMessage: () => `job search attributes not usable after 60 s: ${(last as Error | undefined)?.message}` },
    );
  } finally {
    await connection.close();
  }
}

export function clusterLogPath(dir: string, service: TemporalService): string {
  return join(resolve(dir), 'logs', `${service}.log`);
}
