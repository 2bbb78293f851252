import type { Client } from '@temporalio/client';
import { createApp } from '../../src/api/create-app.js';
import { JobGateway } from '../../src/api/job-gateway.js';
import { JobService } from '../../src/api/job-service.js';
import type { JobTimings } from '../../src/shared/job-model.js';
import { createHookAllowList } from '../../src/hooks/hook-allow-list.js';
import type { JobRegistry } from '../../src/jobs/job-registry.js';
import { BackgroundWork } from '../../src/process/background-work.js';

/**
 * The REST facade with no Temporal behind it: the real app (auth, body limit, OpenAPI validation,
 * the job service, the gateway's id, input, memo and search attributes), but a client whose
 * workflow start answers at once: neither the SDK's encoding of the request nor the call itself.
 * What a submit's HTTP hop costs by itself.
 */
export function stubFacade(registry: JobRegistry, timings: JobTimings, secret: string) {
  const client = {
    workflow: { start: async () => ({}) },
    withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn(),
  } as unknown as Client;
  const gateway = new JobGateway({ client, taskQueue: 'stub-facade', registry, timings });
  const service = new JobService({
    background: new BackgroundWork(),
    gateway,
    // Submits of Generic jobs reach neither.
    queues: undefined as never,
    periodic: undefined as never,
    registry,
    maxLogBytes: 1 << 20,
    hookAllowList: createHookAllowList([]),
  });
  return createApp({ service, secret, maxBodyBytes: 1 << 20, metrics: async () => '' });
}
