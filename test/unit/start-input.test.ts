import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { jobTimings } from '../../src/api/serve-app.js';
import { DEFAULT_HOOK_TIMINGS } from '../../src/shared/hook-event.js';
import { JobKind, type JobInput } from '../../src/shared/job-model.js';
import { jobStartOptions } from '../../src/shared/job-start.js';
import { compactInput, expandInput, RETRY_DEFAULTS, TIMING_DEFAULTS } from '../../src/shared/start-input.js';
import { scheduledDemoInput } from '../helpers/job-fixture.js';

/** A NOOP job's input as a submit with the default configuration builds it. */
const noopInput: JobInput = {
  id: 'bbbbbbbbbbbbbbbbbbbbbbbb',
  name: 'NOOP',
  kind: JobKind.Generic,
  parameters: {},
  unique: false,
  enqueueTime: 1000,
  revision: 1000,
  retry: { ...RETRY_DEFAULTS, maxFails: 1 },
  timings: jobTimings(loadConfig({ argv: [], env: {} })),
  shortCapMs: 5000,
};

describe('a job workflow’s start argument', () => {
  it('leaves out the retry and timing values at their defaults, and the workflow reads them back whole', () => {
    const start = compactInput(noopInput);
    assert.deepEqual(start.retry, { maxFails: 1 }, 'only what differs from the defaults');
    assert.equal(start.timings, undefined, 'the default configuration’s timings are all defaults');
    assert.ok(JSON.stringify(start).length < JSON.stringify(noopInput).length / 2, JSON.stringify(start));
    assert.deepEqual(expandInput(start), noopInput);
    assert.deepEqual(jobStartOptions(noopInput).args[0], start, 'what a submit starts its workflow with');
  });

  it('keeps every value a deployment configured otherwise', () => {
    const input: JobInput = {
      ...noopInput,
      retry: { maxFails: 3, shouldRetry: false, initialIntervalMs: 10, maxIntervalMs: 20 },
      timings: { ...noopInput.timings, stopGraceMs: 1, hooks: { ...DEFAULT_HOOK_TIMINGS, drainMs: 7 } },
    };
    const start = compactInput(input);
    assert.deepEqual(start.retry, input.retry);
    assert.deepEqual(start.timings, { stopGraceMs: 1, hooks: { drainMs: 7 } });
    assert.deepEqual(expandInput(start), input);
  });

  it('reads an input recorded whole (before the compact form) as it is, hook timings filled in as before', () => {
    const { hooks: _hooks, ...withoutHooks } = noopInput.timings;
    const recorded = { ...scheduledDemoInput, timings: { ...scheduledDemoInput.timings } };
    assert.deepEqual(expandInput(recorded), {
      ...recorded,
      timings: { ...recorded.timings, fanOutContinueAfterEvents: 8000, hooks: DEFAULT_HOOK_TIMINGS },
    });
    assert.deepEqual(expandInput({ ...noopInput, timings: withoutHooks }), noopInput);
  });

  it('has the configuration’s defaults as its timing defaults', () => {
    const { hooks, ...flat } = jobTimings(loadConfig({ argv: [], env: {} }));
    assert.deepEqual(flat, TIMING_DEFAULTS);
    assert.deepEqual(hooks, DEFAULT_HOOK_TIMINGS);
  });
});
