import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { jobTimings } from '../../src/api/serve-app.js';
import { DEFAULT_HOOK_TIMINGS } from '../../src/shared/hook-event.js';
import { JobKind, type JobInput } from '../../src/shared/job-model.js';
import { jobStartOptions, periodicExecutionTemplate } from '../../src/shared/job-start.js';
import { compactInput, executionInput, expandInput, RETRY_DEFAULTS, TIMING_DEFAULTS } from '../../src/shared/start-input.js';
import { scheduledDemoInput } from '../helpers/job-fixture.js';

/** What a workflow started with `start` runs with. */
const whole = (start: Parameters<typeof expandInput>[0]) => executionInput(expandInput(start), noopInput.id, new Date(0));

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
    assert.deepEqual([start.id, start.revision, start.unique], [undefined, undefined, undefined], 'what the workflow derives');
    assert.ok(JSON.stringify(start).length < JSON.stringify(noopInput).length / 3, JSON.stringify(start));
    assert.deepEqual(whole(start), noopInput);
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
    assert.deepEqual(whole(start), input);
  });

  it('reads an input recorded whole (before the compact form) as it is, hook timings filled in as before', () => {
    const { hooks: _hooks, ...withoutHooks } = noopInput.timings;
    const recorded = { ...scheduledDemoInput, timings: { ...scheduledDemoInput.timings } };
    assert.deepEqual(expandInput(recorded), {
      ...recorded,
      timings: {
        ...recorded.timings,
        fanOutContinueAfterEvents: 8000,
        checkInHistoryEvents: 10_000,
        historyBudgetBytes: 10 * 1024 * 1024,
        queueAskAgainMs: 10 * 60 * 1000,
        hooks: DEFAULT_HOOK_TIMINGS,
      },
    });
    assert.deepEqual(whole({ ...noopInput, timings: withoutHooks }), noopInput);
  });

  it('derives the id from the workflow, the revision from the enqueue time and unique as false, unless the input says otherwise', () => {
    const retried = compactInput({ ...noopInput, unique: true, revision: 2000 });
    assert.deepEqual([retried.revision, retried.unique], [2000, true]);
    assert.deepEqual(whole(retried), { ...noopInput, unique: true, revision: 2000 });
    const { memo } = jobStartOptions({ ...noopInput, revision: 2000 });
    assert.deepEqual(Object.keys(memo.input as object).sort(), ['enqueueTime', 'kind', 'name', 'parameters', 'revision', 'shortCapMs']);
    // A periodic job's executions start with their schedule's template: the id and times are each execution's own.
    const template = periodicExecutionTemplate('cccccccccccccccccccccccc', {
      name: 'NOOP',
      parameters: {},
      retry: noopInput.retry,
      timings: noopInput.timings,
    });
    const fired = new Date(5_000_000);
    const execution = executionInput(expandInput(compactInput(template.input)), 'cccccccccccccccccccccccc-2026-12-05T00:00:00Z', fired);
    assert.deepEqual(
      [execution.id, execution.enqueueTime, execution.revision, execution.unique, execution.upstreamJobId],
      ['cccccccccccccccccccccccc-2026-12-05T00:00:00Z', 5000, 5000, false, 'cccccccccccccccccccccccc'],
    );
  });

  it('has the configuration’s defaults as its timing defaults', () => {
    const { hooks, ...flat } = jobTimings(loadConfig({ argv: [], env: {} }));
    assert.deepEqual(flat, TIMING_DEFAULTS);
    assert.deepEqual(hooks, DEFAULT_HOOK_TIMINGS);
  });
});
