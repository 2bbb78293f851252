import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { JobInput } from '../../src/shared/job-model.js';
import { createHarness, type Harness } from '../helpers/harness.js';

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
    // DEMO retries (MaxFails 3, ShouldRetry): take a real submit's input and give it parameters DEMO refuses.
    const model = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-model', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(model.id, ['Success']);
    const history = await h.client.workflow.getHandle(model.id).fetchHistory();
    const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const input = JSON.parse(Buffer.from(payload.data!).toString()) as JobInput;
    const id = randomBytes(12).toString('hex');
    await h.client.workflow.start('GenericJob', {
      workflowId: id,
      taskQueue: h.config.temporal.task_queue,
      args: [{ ...input, id, parameters: { image: 'not-a-demo-image' } }],
    });
    const done = await h.waitForStatus(id, ['Error', 'Success', 'Stopped'], 30_000);
    assert.equal(done.status, 'Error');
    assert.equal(done.fails, 1, 'no retry of parameters that cannot pass');
    assert.match(done.last_error ?? '', /parameters of DEMO are invalid/);
  });
});
