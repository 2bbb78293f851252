import type { JobInput } from '../../src/shared/job-model.js';

/** A Scheduled DEMO job's input, for the unit tests of pure job logic. */
export const scheduledDemoInput: JobInput = {
  id: 'aaaaaaaaaaaaaaaaaaaaaaaa',
  name: 'DEMO',
  kind: 'Scheduled',
  parameters: { image: 'demo' },
  unique: false,
  enqueueTime: 1000,
  scheduleDelay: 30,
  revision: 1000,
  retry: { maxFails: 3, shouldRetry: true, initialIntervalMs: 1000, maxIntervalMs: 5000 },
  timings: { stopGraceMs: 1, heartbeatTimeoutMs: 1, maxRunMs: 1 },
};
