import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { QueueRow } from '../../src/api/contract.js';
import { queueWorkflowId } from '../../src/shared/job-queue.js';
import { acquireSlotSignal, queueStateQuery } from '../../src/workflows/queue-messages.js';
import { JobQueue } from '../../src/workflows/job-queue-workflow.js';
import { createHarness, type Harness } from '../helpers/harness.js';

/**
 * docs/queues.md: PUT /api/v1/queues/{type} {"action":"pause"|"resume"|"stop"} steers a type, "the
 * state is Temporal's: a restart loses no pause". A busy queue gets acquire/release signals all the
 * time and continues as new every 5,000 events (here every 20, the input's `continueAfterEvents`,
 * so the test reaches it quickly). An operator's pause that lands as the queue continues as new
 * must still be taken.
 */
describe('pause and resume of a busy queue as it continues as new', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  it('every PUT /queues/DEMO answers 200 and the last action holds, while runs keep entering the queue', async () => {
    const taskQueue = h.config.temporal.task_queue;
    const workflowId = queueWorkflowId(taskQueue, 'DEMO');
    // The type's queue, as enterQueue/controlQueue would start it, with a low continue-as-new threshold.
    await h.client.workflow.start(JobQueue, { workflowId, taskQueue, args: [{ jobType: 'DEMO', continueAfterEvents: 20 }] });
    // Runs of the type getting in line (their jobs are gone: a grant to one just fails and frees the slot).
    let flooding = true;
    const flood = (async () => {
      for (let i = 0; flooding; i++) {
        await h.client.workflow
          .getHandle(workflowId)
          .signal(acquireSlotSignal, { jobId: `gone-${i}`, ticket: '1.1', at: 1000 + i })
          .catch(() => undefined);
      }
    })();
    const answers: string[] = [];
    try {
      for (let round = 0; round < 12; round++) {
        const action = round % 2 === 0 ? 'pause' : 'resume';
        const replies = await Promise.all(Array.from({ length: 6 }, () => h.request('PUT', '/api/v1/queues/DEMO', { action })));
        for (const reply of replies) {
          if (reply.status !== 200) answers.push(`${action}: ${reply.status} ${await reply.text()}`);
          else {
            const row = ((await reply.json()) as QueueRow[]).find((r) => r.job_type === 'DEMO')!;
            if (row.paused !== (action === 'pause')) answers.push(`${action}: 200 but paused=${row.paused}`);
          }
        }
      }
      // The operator's last word: pause.
      const last = await h.request('PUT', '/api/v1/queues/DEMO', { action: 'pause' });
      if (last.status !== 200) answers.push(`last pause: ${last.status} ${await last.text()}`);
    } finally {
      flooding = false;
      await flood;
    }
    let runs = 0;
    for await (const _ of h.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs++;
    assert.ok(runs > 5, `the queue continued as new (${runs} runs)`);
    const state = await h.client.workflow.getHandle(workflowId).query(queueStateQuery);
    assert.deepEqual(
      answers,
      [],
      `PUT /queues answers while the queue continued as new ${runs - 1} times (paused at the end: ${state.paused})`,
    );
    assert.equal(state.paused, true, 'the last pause holds');
  });
});
