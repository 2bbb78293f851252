import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scheduledDemoInput } from '../helpers/job-fixture.js';
import { initialState, isFinal, statusCode, toStats } from '../../src/shared/job-model.js';

const input = scheduledDemoInput;

describe('the job model (statuses, initial state, stats)', () => {
  it('orders statuses like Harbor: final statuses share one code', () => {
    assert.deepEqual(
      ['Pending', 'Scheduled', 'Running'].map((s) => statusCode(s as never)),
      [0, 1, 2],
    );
    for (const s of ['Stopped', 'Cancelled', 'Error', 'Success'] as const) {
      assert.equal(statusCode(s), 3);
      assert.ok(isFinal(s));
    }
    assert.ok(!isFinal('Running'));
  });

  it('starts a delayed job as Scheduled with run_at, a plain one as Pending', () => {
    const scheduled = initialState(input);
    assert.equal(scheduled.status, 'Scheduled');
    assert.equal(scheduled.run_at, 1030);
    const plain = initialState({ ...input, kind: 'Generic', scheduleDelay: undefined });
    assert.equal(plain.status, 'Pending');
    assert.equal(plain.run_at, undefined);
  });

  it('builds Harbor stats from input and state', () => {
    const stats = toStats({ ...input, statusHook: 'http://h/', upstreamJobId: 'bbbbbbbbbbbbbbbbbbbbbbbb' }, initialState(input));
    assert.equal(stats.ref_link, '/api/v1/jobs/aaaaaaaaaaaaaaaaaaaaaaaa');
    assert.equal(stats.web_hook_url, 'http://h/');
    // The seed README's Get job stats shows the hook's URL as hook_status.
    assert.equal(stats.hook_status, 'http://h/');
    assert.equal(stats.upstream_job_id, 'bbbbbbbbbbbbbbbbbbbbbbbb');
    assert.equal(stats.fails, undefined);
  });
});
