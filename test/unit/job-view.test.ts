import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scheduledDemoInput } from '../helpers/job-fixture.js';
import { reconcile } from '../../src/views/job-view.js';
import { initialState, toStats } from '../../src/shared/job-model.js';

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
  });
});
