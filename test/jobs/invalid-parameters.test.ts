import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startDemoWithRefusedParameters } from '../helpers/refused-run.js';

/**
 * The API checks parameters at submit, but a run can still meet ones its job refuses: a schedule
 * or a retry made before the job's schema changed, a workflow started by hand. No run of those
 * parameters can succeed, so the job ends in Error at once rather than after its retries.
 */
describe('a run whose parameters the job refuses', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  it('ends the job in Error after that one run, whatever its retry policy', async () => {
    // DEMO retries (MaxFails 3, ShouldRetry): a real submit's input, with parameters DEMO refuses.
    const id = await startDemoWithRefusedParameters(h);
    const done = await h.waitForStatus(id, ['Error', 'Success', 'Stopped'], 30_000);
    assert.equal(done.status, 'Error');
    assert.equal(done.fails, 1, 'no retry of parameters that cannot pass');
    assert.match(done.last_error ?? '', /parameters of DEMO are invalid/);
  });
});
