import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { DeliverHookInput, DeliverHookResult } from '../../src/activities/types.js';
import { housekeepingQueue } from '../../src/shared/task-queues.js';
import { createHarness, testTemporalAddress, type Harness } from '../helpers/harness.js';

/**
 * A stop that overtakes a fan-out's hand-over while the outbox is idle or waiting to retry:
 * `pause()` resolves at once there (nothing is being sent), before the delivery loop has seen
 * `paused`; `resume()` cleared it again and `startHookDelivery()` started a second loop beside the
 * first (an event sent twice, the next never). Modelled with the real HookOutbox in a workflow of its
 * own (test/helpers/workflows/), doing what continueFanOutAsNew's stop branch does.
 */
describe('HookOutbox paused and resumed as a stop overtakes a hand-over', () => {
  let h: Harness;
  let connection: NativeConnection;
  const posts = new Map<string, string[]>();
  const delivered = new Map<string, string[]>();
  /** The receiver refuses the first attempts (waiting-to-retry: it is down a while longer). */
  const refusals = new Map<string, number>();
  let workers: Worker[] = [];
  let running: Promise<void>[] = [];
  const taskQueue = `review-outbox-${Date.now()}`;
  before(async () => {
    h = await createHarness({ worker: false });
    connection = await NativeConnection.connect({ address: testTemporalAddress() });
    const deliverHook = async (input: DeliverHookInput): Promise<DeliverHookResult> => {
      const list = posts.get(input.url) ?? [];
      list.push(`${input.eventId} ${input.event.status}${input.event.check_in ? '(ci)' : ''}`);
      posts.set(input.url, list);
      const refused = refusals.get(input.url) ?? 0;
      if (input.url.endsWith('waiting-to-retry') && refused < 3) {
        refusals.set(input.url, refused + 1);
        return { ok: false, httpStatus: 503, error: 'HTTP 503: core is restarting' };
      }
      delivered.set(input.url, [...(delivered.get(input.url) ?? []), list.at(-1)!]);
      return { ok: true, httpStatus: 200 };
    };
    workers = [
      await Worker.create({
        connection,
        taskQueue,
        workflowsPath: fileURLToPath(new URL('../helpers/workflows/outbox-pause-workflow.ts', import.meta.url)),
      }),
      await Worker.create({ connection, taskQueue: housekeepingQueue(taskQueue), activities: { deliverHook } }),
    ];
    running = workers.map((w) => w.run());
  });
  after(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await connection.close();
    await h.close();
  });

  for (const state of ['idle', 'waiting-to-retry'] as const) {
    it(`outbox ${state}: each event delivered once, in order, and the workflow completes`, async () => {
      const url = `http://receiver.invalid/${state}`;
      const workflowId = `review-outbox-${state}-${Date.now()}`;
      const progress = await h.client.workflow
        .execute('OutboxPausedAtHandOver', {
          taskQueue,
          workflowId,
          args: [url, state],
          workflowExecutionTimeout: '60s',
        })
        .catch(async (err: unknown) => {
          const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
          const failures = (history.events ?? []).map((e) => e.workflowTaskFailedEventAttributes?.failure?.message).filter(Boolean);
          throw new Error(
            `${String(err)}; POSTs: ${(posts.get(url) ?? []).join(', ')}; task failures: ${failures.slice(0, 2).join(' | ')}`,
          );
        });
      const got = delivered.get(url) ?? [];
      // Each event delivered once, in order: Running, the check-in, Stopped.
      assert.deepEqual(
        got.map((p) => p.split(' ')[1]),
        ['Running', 'Running(ci)', 'Stopped'],
        `delivered: ${got.join(', ')}; all POSTs: ${(posts.get(url) ?? []).join(', ')}; progress ${progress}`,
      );
    });
  }
});
