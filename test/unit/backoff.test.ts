import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelayMs } from '../../src/shared/backoff.js';
import { DEFAULT_HOOK_TIMINGS, hookRetryDelayMs } from '../../src/shared/hook-event.js';
import type { JobInput } from '../../src/shared/job-model.js';

const input: JobInput = {
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

describe('backoff of job retries and hook redeliveries', () => {
  it('backs off exponentially between failed runs, capped', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((f) => retryDelayMs(input.retry, f)),
      [1000, 2000, 4000, 5000, 5000],
    );
    assert.equal(retryDelayMs(input.retry, 1000), 5000);
  });

  it('backs hook retries off exponentially from the initial delay to the cap', () => {
    const t = { ...DEFAULT_HOOK_TIMINGS, initialRetryMs: 100, maxRetryMs: 1000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => hookRetryDelayMs(t, n)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });
});
