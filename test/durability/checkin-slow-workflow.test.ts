import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../src/activities/index.js';
import { createGateReader } from '../../src/queues/gate-reader.js';
import { createJobLoggerFactory, fileLogDir } from '../../src/logs/job-loggers.js';
import { housekeepingQueue } from '../../src/shared/task-queues.js';
import { connectNative } from '../../src/temporal/connect.js';
import { temporalTarget } from '../../src/temporal/connection-options.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';
import { BackgroundWork } from '../../src/process/background-work.js';

// The workflow side answers check-in updates slowly (here: not at all for a while, as when every
// workflow task slot is taken). A job whose code has returned then waits on its queued check-in
// updates without heartbeating, past its heartbeat timeout: Temporal retries the run and the
// job's code runs a second time.
let h: Harness;
let hooks: HookReceiver;
let connection: NativeConnection;
const running: Promise<void>[] = [];
before(async () => {
  h = await createHarness({ worker: false });
  hooks = await startHookReceiver();
  connection = await connectNative(temporalTarget(h.config));
});
after(async () => {
  await h.close();
  await hooks.close();
});

function workflowWorker() {
  return Worker.create({
    connection,
    taskQueue: h.config.temporal.task_queue,
    workflowBundle: { codePath: process.env.JOBSERVICE_WORKFLOW_BUNDLE! },
  });
}

it('a run whose code returned is not run again because its check-in updates were slow', async () => {
  const { config } = h;
  const activities = createActivities({
    background: new BackgroundWork(),
    registry: (await import('../helpers/test-jobs.js')).testRegistry(),
    client: h.client,
    loggers: createJobLoggerFactory(config.job_loggers),
    properties: {},
    checkinMinIntervalMs: config.job.checkin_min_interval_ms,
    heartbeatIntervalMs: 1000,
    runningReportDelayMs: 200,
    logDir: fileLogDir(config.job_loggers),
    gates: createGateReader(h.client),
    stopGraceMs: config.job.stop_grace_seconds * 1000,
  });
  const act = await Worker.create({
    connection,
    taskQueue: config.temporal.task_queue,
    activities: { executeJob: activities.executeJob },
    maxHeartbeatThrottleInterval: '1s',
  });
  const hk = await Worker.create({
    connection,
    taskQueue: housekeepingQueue(config.temporal.task_queue),
    activities: { deliverHook: activities.deliverHook },
  });
  running.push(act.run(), hk.run());
  let wf = await workflowWorker();
  let wfRun = wf.run();

  const job = await h.submit({
    name: 'TEST_CHATTY',
    parameters: { count: 24, interval_ms: 250 },
    status_hook: hooks.url('/chatty'),
    metadata: { kind: 'Generic' },
  });
  await waitFor(
    () => h.stats(job.id),
    (s) => s.status === 'Running' && /^[3-9]\//.test(s.check_in ?? ''),
    { what: 'running' },
  );
  // The workflow side stops answering for a while (its task slots busy, or its worker restarting):
  // longer than the run's heartbeat timeout, which its last reports used to wait out unheartbeated.
  wf.shutdown();
  await wfRun;
  await new Promise((r) => setTimeout(r, 16_000));
  wf = await workflowWorker();
  wfRun = wf.run();
  const done = await h.waitForStatus(job.id, ['Success', 'Error'], 120_000);
  const log = readFileSync(join(h.logDir, `${job.id}.log`), 'utf8');
  const starts = log.split('\n').filter((l) => l.includes('run of TEST_CHATTY started'));
  assert.equal(done.status, 'Success', done.last_error);
  act.shutdown();
  hk.shutdown();
  wf.shutdown();
  await Promise.allSettled([...running, wfRun]);
  assert.equal(starts.length, 1, `the job's code ran ${starts.length} times:\n${starts.join('\n')}`);
});
