import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Hono } from 'hono';
import { buildApp, serveApi } from '../../src/api/serve-app.js';
import { freePort } from '../../src/process/free-port.js';
import { ConfigSchema, type Config } from '../../src/config/config-schema.js';
import type { JobRegistry } from '../../src/jobs/job-registry.js';
import { createServiceLogger } from '../../src/logs/service-logger.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { connectClient } from '../../src/temporal/connect.js';
import { temporalTarget } from '../../src/temporal/connection-options.js';
import { installQuietRuntime } from '../../src/temporal/install-runtime.js';
import { registerSearchAttributes } from '../../src/temporal/register-search-attributes.js';
import { startWorker, type RunningWorker } from '../../src/worker/run-worker.js';
import { BackgroundWork } from '../../src/process/background-work.js';
import { testRegistry } from './test-jobs.js';
import { waitFor } from './wait-for.js';

export const TEST_SECRET = 'test-secret-0123456789';

let runtimeInstalled = false;

export function testTemporalAddress(): string {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEST_TEMPORAL_ADDRESS is unset: run the suite with `npm test`');
  return address;
}

/** The Temporal CLI the test runner located, for tests that start a dev server of their own. */
export function testTemporalCli(): string {
  const cli = process.env.TEST_TEMPORAL_CLI;
  if (!cli) throw new Error('TEST_TEMPORAL_CLI is unset: run the suite with `npm test`');
  return cli;
}

/** A valid configuration for tests: its own task queue and log directory, quiet service logs. */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  const logDir = mkdtempSync(join(tmpdir(), 'jobservice-logs-'));
  const config = ConfigSchema.parse({
    job_loggers: [{ name: 'FILE', level: 'DEBUG', settings: { base_dir: logDir }, sweeper: { duration: 1 } }],
    loggers: [{ name: 'STD_OUTPUT', level: 'ERROR' }],
    core_secret: TEST_SECRET,
    job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, checkin_min_interval_ms: 200 },
    ...overrides,
    temporal: {
      address: testTemporalAddress(),
      task_queue: `test-${randomBytes(4).toString('hex')}`,
      ...((overrides.temporal as object | undefined) ?? {}),
    },
  });
  // Sealed as `npm start` seals them, unless a test says otherwise.
  if ((overrides.job as { sealing_keys?: unknown } | undefined)?.sealing_keys === undefined) config.job.sealing_keys = [TEST_SEALING_KEY];
  return config;
}

const TEST_SEALING_KEY = 'the test suite sealing key';

export interface Harness {
  config: Config;
  client: Client;
  app: Hono;
  logDir: string;
  /** The served API's base URL, with `served`. */
  url?: string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  submit(job: Record<string, unknown>): Promise<JobStats>;
  stats(id: string): Promise<JobStats>;
  waitForStatus(id: string, statuses: string[], timeoutMs?: number): Promise<JobStats>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Terminates the task queue's open workflows first, unless `keepJobs` (a test that restarts the server). */
  close(options?: { keepJobs?: boolean }): Promise<void>;
}

export interface HarnessOptions {
  config?: Config;
  registry?: JobRegistry;
  /** Start a worker right away. @defaultValue true */
  worker?: boolean;
  /**
   * Send `request` over HTTP to the API served on a port of its own, as `npm start` serves it,
   * instead of handing it to the app in process. @defaultValue false
   */
  served?: boolean;
}

/** A real API over a real Temporal dev server, with an in-process worker on a task queue of its own. */
export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  if (!runtimeInstalled) {
    installQuietRuntime('ERROR');
    runtimeInstalled = true;
  }
  const config = options.config ?? testConfig();
  const registry = options.registry ?? testRegistry();
  const target = temporalTarget(config);
  const client = await connectClient(target);
  await registerSearchAttributes(client);
  // What the API leaves going (a stop's sweep) ends before the connection closes.
  const background = new BackgroundWork();
  const app = buildApp(config, client, registry, { background }) as unknown as Hono;
  const logDir = (config.job_loggers.find((l) => l.name === 'FILE')?.settings.base_dir as string) ?? '';
  let worker: RunningWorker | undefined;
  const served = options.served ? await serveApi({ ...config, port: await freePort() }, client, registry, { background }) : undefined;

  const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = {
      method,
      headers: {
        authorization: `Harbor-Secret ${TEST_SECRET}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
    };
    if (body instanceof ReadableStream) {
      // A stream goes out chunked, with no length declared.
      Object.assign(init, { body, duplex: 'half' });
    } else if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    return served ? fetch(served.url + path, init) : Promise.resolve(app.request(path, init));
  };

  const harness: Harness = {
    config,
    client,
    app,
    logDir,
    ...(served ? { url: served.url } : {}),
    request,
    async submit(job) {
      const response = await request('POST', '/api/v1/jobs', { job });
      const payload = (await response.json()) as { job: JobStats };
      if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${JSON.stringify(payload)}`);
      return payload.job;
    },
    async stats(id) {
      const response = await request('GET', `/api/v1/jobs/${id}`);
      if (response.status !== 200) throw new Error(`stats answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { job: JobStats }).job;
    },
    waitForStatus(id, statuses, timeoutMs = 20_000) {
      return waitFor(
        () => harness.stats(id),
        (s) => statuses.includes(s.status),
        {
          timeoutMs,
          what: `job ${id} to reach ${statuses.join('|')}`,
        },
      );
    },
    async startWorker() {
      if (worker) throw new Error('the harness worker is already running');
      const log = createServiceLogger(config.loggers, 'test-worker');
      worker = await startWorker(config, target, client, registry, log);
    },
    async stopWorker() {
      await worker?.shutdown();
      worker = undefined;
    },
    async close({ keepJobs = false } = {}) {
      // Terminated workflows cancel their activities at the next heartbeat, so no job outlives
      // the worker and touches the connection after it is closed.
      const open = keepJobs
        ? []
        : client.workflow.list({ query: `TaskQueue = '${config.temporal.task_queue}' AND ExecutionStatus = 'Running'` });
      for await (const execution of open) {
        await client.workflow
          .getHandle(execution.workflowId)
          .terminate('test cleanup')
          .catch(() => undefined);
      }
      await harness.stopWorker();
      await served?.close();
      await background.close();
      await client.connection.close();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
  if (options.worker ?? true) await harness.startWorker();
  return harness;
}
