import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { ActivityCancellationDetails } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createExecuteJob } from '../../src/activities/execute-job.js';
import { defineJob } from '../../src/jobs/define-job.js';
import type { JobContext } from '../../src/jobs/job-context.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { createJobLoggerFactory } from '../../src/logs/job-loggers.js';
import type { QueueGate } from '../../src/shared/job-queue.js';
import { waitFor } from '../helpers/wait-for.js';
import { BackgroundWork } from '../../src/process/background-work.js';

const id = 'bbbbbbbbbbbbbbbbbbbbbbbb';

/** executeJob for one job, against a client whose history shows nothing since the run was scheduled. */
function setup(
  run: (ctx: JobContext) => Promise<void>,
  gateDelayMs = 0,
  heartbeatIntervalMs = 1000,
  gates?: (taskQueue: string, jobType: string) => Promise<QueueGate | undefined>,
) {
  const dir = mkdtempSync(join(tmpdir(), 'execute-job-'));
  const job = defineJob({ name: 'A_JOB', params: z.object({}).strict(), run });
  const client = {
    workflow: { getHandle: () => ({ query: async () => null, executeUpdate: async () => undefined }) },
    options: { namespace: 'default' },
    workflowService: {
      getWorkflowExecutionHistoryReverse: async () => ({
        history: { events: [{ activityTaskScheduledEventAttributes: { activityId: 'test' } }] },
      }),
    },
  };
  const executeJob = createExecuteJob({
    background: new BackgroundWork(),
    registry: createJobRegistry([job]),
    client: client as never,
    loggers: createJobLoggerFactory([{ name: 'FILE', level: 'DEBUG', settings: { base_dir: dir } }]),
    properties: {},
    checkinMinIntervalMs: 100,
    heartbeatIntervalMs,
    runningReportDelayMs: 10_000,
    gates:
      gates ??
      (async () => {
        await sleep(gateDelayMs);
        return undefined;
      }),
    stopGraceMs: 200,
  });
  return {
    dir,
    executeJob,
    log: () => readFileSync(join(dir, `${id}.log`), 'utf8'),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe('a run of a job (the executeJob activity)', () => {
  it('past job.max_run_hours is told it overran, its slow start (the queue gate read) counted in', async () => {
    const { executeJob, log, done } = setup(
      (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())),
      1500,
    );
    const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 2000 });
    const admission = { taskQueue: 'q', pendingSinceMs: 0, granted: false, firstRun: true };
    const running = env.run(executeJob, { id, name: 'A_JOB', parameters: {}, revision: 1, admission } as never).catch((err: Error) => err);
    // Past the cap from the task's arrival (the run itself began 1.5 s later): its next heartbeat finds it gone.
    await sleep(2300);
    env.cancel('NOT_FOUND', new ActivityCancellationDetails({ notFound: true }));
    await running;
    assert.match(log(), /overran job\.max_run_hours/, log());
    assert.doesNotMatch(log(), /received stop/);
    done();
  });

  it('retried, heartbeats what its lost attempt saved until the job saves anew', async () => {
    let release!: () => void;
    const { executeJob, done } = setup(
      async (ctx) => {
        assert.deepEqual(ctx.savedProgress(), { step: 41 });
        // As RETENTION_REPOSITORY loads its candidates before it saves again.
        await new Promise<void>((resolve) => (release = resolve));
        ctx.saveProgress({ step: 42 });
      },
      0,
      20,
    );
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { revision: 1, progress: { step: 41 } } });
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const running = env.run(executeJob, { id, name: 'A_JOB', parameters: {}, revision: 1 } as never);
    await waitFor(
      async () => beats.length,
      (n) => n > 0,
      { what: 'a heartbeat before the job saves' },
    );
    release();
    await running;
    assert.deepEqual(beats[0], { revision: 1, progress: { step: 41 } });
    assert.deepEqual(beats[beats.length - 1], { revision: 1, progress: { step: 42 } });
    done();
  });

  it('reads its queue until the read answers: a paused type holds it back though the first read failed', async () => {
    let ran = 0;
    let reads = 0;
    const { executeJob, done } = setup(
      async () => void ran++,
      0,
      1000,
      async () => {
        if (reads++ === 0) throw new Error('query timed out');
        return { paused: true, paused_at: 1 } as QueueGate;
      },
    );
    const admission = { taskQueue: 'q', pendingSinceMs: 0, granted: false, firstRun: true };
    const result = await new MockActivityEnvironment().run(executeJob, {
      id,
      name: 'A_JOB',
      parameters: {},
      revision: 1,
      admission,
    } as never);
    assert.deepEqual(result, { outcome: 'queued' });
    assert.equal(ran, 0);
    assert.equal(reads, 2);
    done();
  });
});
