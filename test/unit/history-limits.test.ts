import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  executionBeganAt,
  limitsKeepingStreak,
  limitsSparedByReportHistory,
  selectBatchPrunable,
  selectPrunable,
  selfBeyondLimit,
} from '../../src/schedules/history-limits.js';

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

  it('counts the ending execution in its place by start time: a newer one that closed first stays (Allow, overlapping runs)', () => {
    const at = (t: string) => Date.parse(`2026-01-01T${t}Z`);
    const older = { id: 'job-10:00', startedAt: at('10:00:00'), succeeded: true };
    const newer = { id: 'job-10:01', startedAt: at('10:01:00'), succeeded: true };
    const oldest = { id: 'job-09:59', startedAt: at('09:59:00'), succeeded: true };
    // The long run fired at 10:00 ends after the 10:01 one: with a limit of 1 the newer stays, and
    // the ending one, beyond the limit, cannot delete itself: its worker deletes it once it has closed.
    assert.deepEqual(selectPrunable([newer], older, { successful: 1 }), []);
    assert.equal(selfBeyondLimit([newer], older, { successful: 1 }), true);
    assert.equal(selfBeyondLimit([newer, oldest], older, { successful: 2 }), false);
    assert.equal(selfBeyondLimit([newer], older, { failed: 0 }), false, 'a failed limit says nothing of a success');
    assert.equal(selfBeyondLimit([], older, { successful: 0 }), true);
    assert.deepEqual(selectPrunable([newer, oldest], older, { successful: 2 }), ['job-09:59']);
    // The next execution to end finds it closed and takes it.
    const next = { id: 'job-10:02', startedAt: at('10:02:00'), succeeded: true };
    assert.deepEqual(selectPrunable([newer, older], next, { successful: 1 }), ['job-10:01', 'job-10:00']);
  });

  it('keeps at least pause_after_failures failed executions, so the streak can reach it', () => {
    assert.deepEqual(limitsKeepingStreak({ successful: 2, failed: 1 }, 3), { successful: 2, failed: 3 });
    assert.deepEqual(limitsKeepingStreak({ successful: 2, failed: 5 }, 3), { successful: 2, failed: 5 });
    assert.deepEqual(limitsKeepingStreak({ successful: 2 }, 3), { successful: 2 }, 'no failed limit keeps every failure already');
    assert.deepEqual(limitsKeepingStreak({ failed: 0 }, undefined), { failed: 0 });
  });

  it('ranks a periodic execution by its fire (the time in its id), anything else by the time given', () => {
    assert.equal(executionBeganAt('0123456789abcdef01234567-2026-01-01T10:00:05Z', 99), Date.parse('2026-01-01T10:00:05Z'));
    assert.equal(executionBeganAt('0123456789abcdef01234567', 99), 99);
  });

  it("a batch job's report history keeps its newest, and spares what the periodic job's limits and streak keep", () => {
    const e = (id: string, startedAt: number, succeeded: boolean) => ({ id, startedAt, succeeded });
    const closed = [e('f1', 1, false), e('f2', 2, false), e('s3', 3, true), e('f4', 4, false)];
    assert.deepEqual(selectBatchPrunable(closed, e('f5', 5, false), 3, undefined).sort(), ['f1', 'f2']);
    assert.deepEqual(selectBatchPrunable(closed, e('f5', 5, false), 3, { failed: 3 }).sort(), ['f1'], 'three failures stay');
    assert.deepEqual(selectBatchPrunable(closed, e('f5', 5, false), 2, { successful: 1 }).sort(), ['f1', 'f2']);
    // The ending one counts in its place: an older fire ending late does not push out a newer one.
    assert.deepEqual(selectBatchPrunable([e('s2', 2, true), e('s3', 3, true)], e('s1', 1, true), 2, undefined), []);
    assert.deepEqual(limitsSparedByReportHistory(undefined, undefined), undefined);
    assert.deepEqual(limitsSparedByReportHistory({ successful: 5 }, 3), { successful: 5, failed: 3 });
    assert.deepEqual(limitsSparedByReportHistory({ failed: 1 }, 4), { failed: 4 });
    assert.deepEqual(limitsSparedByReportHistory({ failed: 0 }, undefined), undefined, 'a limit of 0 spares nothing');
  });
});
