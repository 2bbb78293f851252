import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { limitsKeepingStreak, selectPrunable } from '../../src/schedules/history-limits.js';

describe('periodic history limits', () => {
  it('prunes executions beyond each history limit, oldest first, counting the one that is ending', () => {
    const e = (id: string, startedAt: number, succeeded: boolean) => ({ id, startedAt, succeeded });
    const closed = [e('s1', 1, true), e('f2', 2, false), e('s3', 3, true), e('f4', 4, false), e('s5', 5, true)];
    assert.deepEqual(selectPrunable(closed, e('s6', 6, true), { successful: 2, failed: 1 }).sort(), ['f2', 's1', 's3']);
    assert.deepEqual(selectPrunable(closed, e('f6', 6, false), { successful: 2, failed: 1 }).sort(), ['f2', 'f4', 's1']);
    assert.deepEqual(selectPrunable(closed, e('s6', 6, true), { failed: 0 }).sort(), ['f2', 'f4'], 'no successful limit keeps them all');
    assert.deepEqual(selectPrunable(closed, e('s6', 6, true), {}), []);
    // The ending execution never deletes itself, even with a limit of 0, and is never listed twice.
    assert.deepEqual(selectPrunable([...closed, e('s6', 6, true)], e('s6', 6, true), { successful: 0 }).sort(), ['s1', 's3', 's5']);
  });

  it('keeps at least pause_after_failures failed executions, so the streak can reach it', () => {
    assert.deepEqual(limitsKeepingStreak({ successful: 2, failed: 1 }, 3), { successful: 2, failed: 3 });
    assert.deepEqual(limitsKeepingStreak({ successful: 2, failed: 5 }, 3), { successful: 2, failed: 5 });
    assert.deepEqual(limitsKeepingStreak({ successful: 2 }, 3), { successful: 2 }, 'no failed limit keeps every failure already');
    assert.deepEqual(limitsKeepingStreak({ failed: 0 }, undefined), { failed: 0 });
  });
});
