import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStartRecorded, SETTLED_AFTER_MS } from '../../src/schedules/recorded-starts.js';

describe('a schedule’s recorded starts, before the pruner deletes an execution', () => {
  const now = 20_000;
  const recent = [
    { workflowId: 'job-10', takenAt: 10_000 },
    { workflowId: 'job-11', takenAt: 11_000 },
    { workflowId: 'job-12', takenAt: 12_000 },
  ];

  it('counts a start the schedule lists, or one older than all it lists', () => {
    assert.equal(isStartRecorded(recent, { id: 'job-11', startedAt: 11_020 }, now), true);
    assert.equal(
      isStartRecorded(recent, { id: 'job-03', startedAt: 3_020 }, now),
      true,
      'started well before the oldest listed was recorded: recorded before it',
    );
  });

  it('does not count a start the schedule has not recorded yet', () => {
    assert.equal(isStartRecorded(recent, { id: 'job-13', startedAt: 13_020 }, now), false);
    // A start taken after the oldest listed one but missing from the list is not recorded either.
    assert.equal(isStartRecorded(recent, { id: 'job-10b', startedAt: 10_500 }, now), false);
    // The oldest listed start was recorded at 10_000 by the scheduler's clock; a start a moment
    // before that by another host's clock may still be the unrecorded one.
    assert.equal(isStartRecorded(recent, { id: 'job-09', startedAt: 9_000 }, now), false);
    assert.equal(isStartRecorded([], { id: 'job-01', startedAt: 1_000 }, now), false, 'a schedule that lists nothing has recorded nothing');
  });

  it('counts a start older than the settling age even when the list does not vouch for it', () => {
    const later = 13_020 + SETTLED_AFTER_MS + 1;
    assert.equal(isStartRecorded(recent, { id: 'job-13', startedAt: 13_020 }, later), true);
    assert.equal(isStartRecorded(recent, { id: 'job-13', startedAt: 13_020 }, later - 2), false);
  });

  it('counts every start of a schedule that no longer exists', () => {
    assert.equal(isStartRecorded(undefined, { id: 'job-13', startedAt: 13_020 }, now), true);
  });
});
