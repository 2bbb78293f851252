import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newJobId } from '../../src/api/new-job-id.js';
import { JOB_ID_PATTERN } from '../../src/shared/job-id.js';

describe('new job ids', () => {
  it('are of Harbor form and distinct across several refills of the random pool', () => {
    const ids = Array.from({ length: 2000 }, () => newJobId());
    for (const id of ids) assert.match(id, JOB_ID_PATTERN);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('use the whole alphabet, not a pool that is never refilled or zero-filled', () => {
    const ids = Array.from({ length: 600 }, () => newJobId());
    const seen = new Set(ids.join(''));
    assert.equal(seen.size, 16);
    assert.ok(!ids.includes('0'.repeat(24)));
  });
});
