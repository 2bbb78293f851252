import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scheduledDemoInput } from '../helpers/job-fixture.js';
import { retryDelayMs } from '../../src/shared/backoff.js';
import { DEFAULT_HOOK_TIMINGS, hookRetryDelayMs } from '../../src/shared/hook-event.js';

const input = scheduledDemoInput;

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
