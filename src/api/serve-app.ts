import { createSealer } from '../secrets/sealer.js';
import { BackgroundWork } from '../process/background-work.js';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener, type ServerType } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import type { Config } from '../config/config-schema.js';
import type { JobRegistry } from '../jobs/job-registry.js';
import { fileLogDir } from '../logs/job-loggers.js';
import type { JobTimings } from '../shared/job-model.js';
import { renderBatchMetrics } from './batch-metrics.js';
import { unroutableRequestReply } from './error-handler.js';
import { renderQueueMetrics } from './queue-metrics.js';
import { boundedRpc } from './bounded-rpc.js';
import { sharedRender } from './shared-render.js';

import { createApp } from './create-app.js';
import { JobGateway } from './job-gateway.js';
import { JobService } from './job-service.js';
import { QueueGateway } from './queue-gateway.js';
import { createHookAllowList } from '../hooks/hook-allow-list.js';
import { PeriodicGateway } from './periodic-gateway.js';

/** How long one render of /metrics answers every scrape (see sharedRender). */
const METRICS_REUSE_MS = 2_000;

export interface RunningApi {
  url: string;
  /** Periodic jobs whose schedules were brought to today's configuration as the API started (see PeriodicGateway.refreshPolicies). */
  policiesRefreshed: Promise<number>;
  close(): Promise<void>;
}

/** Timings every submitted job carries into its workflow. */
export function jobTimings(config: Config): JobTimings {
  return {
    stopGraceMs: config.job.stop_grace_seconds * 1000,
    heartbeatTimeoutMs: config.job.heartbeat_timeout_seconds * 1000,
    maxRunMs: config.job.max_run_hours * 3600 * 1000,
    hooks: {
      initialRetryMs: config.job.hook_retry_initial_ms,
      maxRetryMs: config.job.hook_retry_max_seconds * 1000,
      retryHorizonMs: config.job.hook_retry_hours * 3600 * 1000,
      drainMs: config.job.hook_drain_ms,
      attemptTimeoutMs: config.job.hook_timeout_seconds * 1000,
    },
    fanOutContinueAfterEvents: config.job.fan_out_history_events,
    checkInHistoryEvents: config.job.checkin_history_events,
    historyBudgetBytes: Math.floor(config.job.history_budget_mb * 1024 * 1024),
    queueAskAgainMs: config.job.queue_ask_again_seconds * 1000,
  };
}

export interface AppOptions {
  /**
   * Ask Temporal to hand a new job's first workflow task straight back to a worker on the client's
   * own connection (one matching round trip less). Only where the API and a worker share a
   * process and a NativeConnection (`npm start`); with no free slot the server dispatches as usual.
   */
  eagerStart?: boolean;
  /** Where the API's unawaited work runs (a sweep after a stop); `serveApi`'s close ends it. Else one nobody closes. */
  background?: BackgroundWork;
}

/** What every gateway to Temporal is built on. */
function gatewayDeps(config: Config, client: Client, registry: JobRegistry, options: AppOptions = {}) {
  return {
    client,
    taskQueue: config.temporal.task_queue,
    registry,
    timings: jobTimings(config),
    eagerStart: options.eagerStart ?? false,
    sealer: createSealer(config.job.sealing_keys),
    background: options.background ?? new BackgroundWork(),
  };
}

/** What the routes call: the job service and the queue gateway behind it, on `client`. */
export function buildJobService(config: Config, client: Client, registry: JobRegistry, options: AppOptions = {}) {
  const deps = gatewayDeps(config, client, registry, options);
  const queues = new QueueGateway(deps);
  const service = new JobService({
    background: deps.background,
    gateway: new JobGateway(deps),
    periodic: new PeriodicGateway(deps),
    queues,
    registry,
    logDir: fileLogDir(config.job_loggers),
    maxLogBytes: Math.floor(config.max_retrieve_size_mb * 1024 * 1024),
    hookAllowList: createHookAllowList(config.job.hook_allowed_hosts),
  });
  return { service, queues };
}

export function buildApp(config: Config, client: Client, registry: JobRegistry, options: AppOptions = {}) {
  const secret = config.core_secret;
  if (!secret) throw new Error('CORE_SECRET is not set: refusing to serve an API anyone could call');
  const { service, queues } = buildJobService(config, client, registry, options);
  return createApp({
    service,
    secret,
    maxBodyBytes: config.max_body_bytes,
    // One deadline for the whole render (its listings page on): a call lost in a Temporal stall
    // would otherwise hang the scrape, and every scrape sharing it, until gRPC gave up (~2 min).
    metrics: sharedRender(
      () =>
        boundedRpc(
          client,
          async () => (await renderQueueMetrics(queues)) + (await renderBatchMetrics(client, registry, config.temporal.task_queue)),
        ),
      METRICS_REUSE_MS,
    ),
  });
}

/** Serve the API over http or https as configured. */
export async function serveApi(config: Config, client: Client, registry: JobRegistry, given: AppOptions = {}): Promise<RunningApi> {
  const background = given.background ?? new BackgroundWork();
  const options = { ...given, background };
  const app = buildApp(config, client, registry, options);
  const https = config.protocol === 'https' && config.https_config;
  // A request cut by the close's grace still runs its handler: counted until it returns. Built
  // here rather than by `serve()`, which passes no error handler: a request that is no URL would
  // get an empty 400.
  const listener = getRequestListener((request: Request, env: unknown) => background.track(Promise.resolve(app.fetch(request, env))), {
    hostname: config.host,
    errorHandler: unroutableRequestReply,
  });
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = https
      ? createHttpsServer(
          {
            cert: readFileSync(https.cert),
            key: readFileSync(https.key),
            // Harbor's internal TLS: a client without a certificate from the trusted CA fails the handshake.
            ...(https.verify_client_cert && https.client_ca
              ? { requestCert: true, rejectUnauthorized: true, ca: readFileSync(https.client_ca) }
              : {}),
          },
          listener,
        )
      : createHttpServer(listener);
    s.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  // In the background: the API answers meanwhile (see PeriodicGateway.refreshPolicies).
  const policiesRefreshed = new PeriodicGateway(gatewayDeps(config, client, registry, options))
    .refreshPolicies(background.signal)
    .catch(() => 0);
  void background.track(policiesRefreshed);
  return {
    url: `${config.protocol}://${config.host}:${port}`,
    policiesRefreshed,
    // Requests first (a stop may start a sweep), then what they left going.
    close: async () => {
      await closeGracefully(server);
      await background.close();
    },
  };
}

/** How long a closing API lets requests in flight finish (a log follow would stream on for ever). */
const CLOSE_GRACE_MS = 5_000;

/**
 * Stops taking connections and lets requests in flight have their answers: a submit cut off after
 * its job was started would be resubmitted and run twice. Connections are closed as they fall idle
 * (keep-alive ones between requests), and whatever still streams after the grace is cut.
 */
function closeGracefully(served: ServerType): Promise<void> {
  // HTTP/1.1 (plain or TLS), as serveApi serves it.
  const server = served as HttpServer;
  return new Promise<void>((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
