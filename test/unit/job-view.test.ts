import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scheduledDemoInput } from '../helpers/job-fixture.js';
import { jobView, reconcile } from '../../src/views/job-view.js';
import { initialState, toStats } from '../../src/shared/job-model.js';
import { jobStartOptions } from '../../src/shared/job-start.js';

const input = scheduledDemoInput;

describe('reading a job from a workflow memo and execution status', () => {
  it('maps workflows closed from outside onto job statuses, leaving final ones alone', () => {
    const running = toStats(input, { ...initialState(input), status: 'Running' });
    assert.equal(reconcile(running, 'TERMINATED').status, 'Stopped');
    assert.equal(reconcile(running, 'CANCELLED').status, 'Cancelled');
    assert.equal(reconcile(running, 'TIMED_OUT').status, 'Error');
    assert.equal(reconcile(running, 'FAILED').status, 'Error');
    assert.equal(reconcile(running, 'RUNNING').status, 'Running');
    const done = { ...running, status: 'Success' as const };
    assert.equal(reconcile(done, 'TERMINATED').status, 'Success');
    // The close time is the status change's: update_time moves to it, never back; a final job's stays.
    const closed = new Date((running.update_time + 30) * 1000);
    assert.equal(reconcile(running, 'TERMINATED', closed).update_time, running.update_time + 30);
    assert.equal(reconcile(running, 'TERMINATED', new Date((running.update_time - 30) * 1000)).update_time, running.update_time);
    assert.equal(reconcile(done, 'TERMINATED', closed).update_time, done.update_time);
  });

  it('records in the memo what the API shows, not the timings and retry policy only the workflow reads', () => {
    const { memo, args } = jobStartOptions(input);
    const recorded = memo.input as Record<string, unknown>;
    assert.equal(recorded.timings, undefined);
    assert.equal(recorded.retry, undefined);
    assert.ok(args[0].timings, 'the workflow still starts with its timings');
    const view = jobView(memo, input.id, new Date(input.enqueueTime * 1000));
    assert.ok(view);
    assert.deepEqual(toStats(view.input, view.state), toStats(input, initialState(input)));
  });
});
