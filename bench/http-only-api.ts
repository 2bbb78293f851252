import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/api/create-app.js';
import { JobService } from '../src/api/job-service.js';
import type { JobGateway, SubmitRequest } from '../src/api/job-gateway.js';
import { newJobId } from '../src/api/new-job-id.js';
import { createHookAllowList } from '../src/hooks/hook-allow-list.js';
import { jobTimings } from '../src/api/serve-app.js';
import { loadConfig } from '../src/config/load-config.js';
import { defaultJobRegistry } from '../src/jobs/index.js';
import { initialState, toStats, type JobInput } from '../src/shared/job-model.js';
import { nowSec } from '../src/shared/time.js';

/**
 * The REST facade with nothing behind it, for the bench's `http` scenario: the real app (auth,
 * body limit, OpenAPI validation, the job service's checks, the JSON answer), but a gateway whose
 * submit answers at once instead of starting a workflow. What a submit's HTTP hop costs by itself.
 */
const registry = defaultJobRegistry();
const timings = jobTimings(loadConfig());
const gateway = {
  async submit(request: SubmitRequest) {
    const now = nowSec();
    const input: JobInput = {
      id: newJobId(),
      name: request.name,
      kind: request.kind,
      parameters: request.parameters,
      unique: request.unique,
      enqueueTime: now,
      revision: now,
      ...registry.startPolicy(request.name, request.parameters),
      timings,
    };
    return toStats(input, initialState(input));
  },
} as unknown as JobGateway;
const service = new JobService({
  gateway,
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
