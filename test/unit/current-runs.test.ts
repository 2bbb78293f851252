import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newestRunPerId } from '../../src/temporal/current-runs.js';

const run = (workflowId: string, runId: string, startedAtMs: number, status: string) => ({
  workflowId,
  runId,
  startTime: new Date(startedAtMs),
  status: { name: status },
});

describe('newestRunPerId: a run a reset replaced is no execution of its own', () => {
  it('keeps each id’s newest run, in the listing’s order, whatever order the runs came in', () => {
    const listed = [
      run('a', 'a-replaced', 1_000, 'TERMINATED'),
      run('b', 'b-only', 1_500, 'COMPLETED'),
      run('a', 'a-reset', 2_000, 'RUNNING'),
      run('c', 'c-reset', 3_000, 'COMPLETED'),
      run('c', 'c-replaced', 2_500, 'FAILED'),
    ] as never[];
    assert.deepEqual(
      newestRunPerId(listed).map((r: { runId: string }) => r.runId),
      ['b-only', 'a-reset', 'c-reset'],
    );
  });
});
