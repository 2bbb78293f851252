import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { ConfigSchema } from '../../src/config/config-schema.js';
import { EXIT_WHEN_STUCK, unwatchedWorkerClass, workerClass } from '../../src/worker/unwatched-worker.js';
import { testConfig, testTemporalAddress } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { busyWorkflow, spin } from './fixtures/busy-workflow.js';

/** Loop turns that take about `ms` on this machine, timed here (the workflow thread runs the same loop). */
function spinsFor(ms: number): number {
  let spins = 1_000_000;
  for (;;) {
    const started = performance.now();
    spin(spins);
    const took = performance.now() - started;
    if (took > 200) return Math.ceil((spins / took) * ms);
    spins *= 2;
  }
}

/**
 * `worker_pool.workflow_watchdog`: on by default, the SDK's watchdog fails a workflow task whose
 * activation runs past 5 s, as a plain SDK worker does; off (no thread per call into workflow
 * code, see src/worker/unwatched-worker.ts), such an activation is left to finish, and one stuck
 * past the guard's limit is reported (by default the process ends).
 */
describe('the workflow watchdog', () => {
  let connection: NativeConnection;
  let client: Client;
  let bundle: WorkflowBundle;
  before(async () => {
    connection = await NativeConnection.connect({ address: testTemporalAddress() });
    client = new Client({ connection });
    bundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./fixtures/busy-workflow.ts', import.meta.url)),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
  });
  after(async () => {
    await connection.close();
  });

  it('is on by default in the configuration; off, a stuck workflow thread ends the process after 60 s instead', () => {
    assert.equal(testConfig().worker_pool.workflow_watchdog, true);
    assert.notEqual(workerClass(false), Worker);
    assert.equal(workerClass(true), Worker);
    assert.equal(EXIT_WHEN_STUCK.stuckAfterMs, 60_000);
    assert.equal(ConfigSchema.shape.worker_pool.parse({ workflow_watchdog: false }).workflow_watchdog, false);
  });

  /**
   * Starts the busy workflow (about `ms` of work, timed in this thread, in one activation) on a
   * worker of the given kind and reads its history with `check`. The timing is taken on a machine
   * other test files load too: a loop timed while they ran can take far less once they stop.
   */
  const runBusy = async (kind: typeof Worker, ms: number, check: (handle: WorkflowHandle, expected: number) => Promise<void>) => {
    const taskQueue = `watchdog-${randomBytes(4).toString('hex')}`;
    const spins = spinsFor(ms);
    const worker = await kind.create({ connection, taskQueue, workflowBundle: bundle });
    const running = worker.run();
    const handle = await client.workflow.start(busyWorkflow, {
      taskQueue,
      workflowId: `${taskQueue}-busy`,
      args: [spins],
      // Room for the whole loop on a loaded machine: the task must not time out on the server.
      workflowTaskTimeout: '120s',
    });
    try {
      await check(handle, spin(spins));
    } finally {
      await handle.terminate('test over').catch(() => undefined);
      worker.shutdown();
      await running;
    }
  };
  const historyOf = (handle: WorkflowHandle) => async () => (await handle.fetchHistory()).events ?? [];

  it('off: an activation longer than 5 s runs to its end and the workflow completes; the stuck guard reports it', async () => {
    const stuck: string[] = [];
    const guarded = unwatchedWorkerClass({ stuckAfterMs: 3000, onStuck: (message) => stuck.push(message) });
    await runBusy(guarded, 8000, async (handle, expected) => {
      const events = await waitFor(
        historyOf(handle),
        (e) => e.some((x) => x.workflowExecutionCompletedEventAttributes || x.workflowTaskFailedEventAttributes),
        {
          timeoutMs: 90_000,
          what: 'the busy workflow to end or fail a task',
        },
      );
      assert.deepEqual(
        events.filter((e) => e.workflowTaskFailedEventAttributes).map((e) => e.workflowTaskFailedEventAttributes?.failure?.message),
        [],
      );
      // The loop did outlast the SDK's 5 s (a loop sized too short would prove nothing).
      const started = events.find((e) => e.workflowTaskStartedEventAttributes)?.eventTime;
      const completed = events.find((e) => e.workflowTaskCompletedEventAttributes)?.eventTime;
      assert.ok(started && completed, 'the busy task started and completed');
      const tookMs = (Number(completed.seconds) - Number(started.seconds)) * 1000 + (completed.nanos! - started.nanos!) / 1e6;
      assert.ok(tookMs > 5000, `the busy task took ${tookMs} ms`);
      assert.equal(await handle.result(), expected);
      // The guard saw the activation outlast its 3 s (the default, 60 s, ends the process).
      assert.equal(stuck.length, 1, stuck.join('; '));
      assert.match(stuck[0]!, /an activation of run .* for 3000 ms: workflow code that never returns/);
    });
  });

  it('on: the SDK fails the task of an activation that runs past 5 s', async () => {
    // 12 s: past the SDK's 5 s even on a machine far less loaded than when the loop was timed.
    await runBusy(workerClass(true), 12_000, async (handle) => {
      const events = await waitFor(
        historyOf(handle),
        (e) => e.some((x) => x.workflowExecutionCompletedEventAttributes || x.workflowTaskFailedEventAttributes),
        {
          timeoutMs: 90_000,
          what: 'the busy workflow to end or fail a task',
        },
      );
      const failed = events.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes;
      assert.match(failed?.failure?.message ?? 'no failed task', /timed out after 5000ms/);
    });
  });
});
