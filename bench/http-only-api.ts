import { serve } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/api/create-app.js';
import { JobGateway } from '../src/api/job-gateway.js';
import { JobService } from '../src/api/job-service.js';
import { jobTimings } from '../src/api/serve-app.js';
import { loadConfig } from '../src/config/load-config.js';
import { createHookAllowList } from '../src/hooks/hook-allow-list.js';
import { defaultJobRegistry } from '../src/jobs/index.js';

/**
 * The REST facade with no Temporal behind it, for the bench's `http` scenario: the real app (auth,
 * body limit, OpenAPI validation, the job service, the gateway's id, input, memo and search
 * attributes), but a client whose workflow start answers at once: neither the SDK's encoding of
 * the request nor the call itself. What a submit's HTTP hop costs by itself.
 */
const registry = defaultJobRegistry();
const client = {
  workflow: { start: async () => ({}) },
  withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn(),
} as unknown as Client;
const gateway = new JobGateway({ client, taskQueue: 'http-only', registry, timings: jobTimings(loadConfig()) });
const service = new JobService({
  gateway,
  // Submits of Generic jobs reach neither.
  queues: undefined as never,
  periodic: undefined as never,
  registry,
  maxLogBytes: 1 << 20,
  hookAllowList: createHookAllowList([]),
});
const app = createApp({ service, secret: process.env.CORE_SECRET!, maxBodyBytes: 1 << 20, metrics: async () => '' });
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
process.once('SIGTERM', () => server.close());
