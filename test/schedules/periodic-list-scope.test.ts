import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PeriodicGateway } from '../../src/api/periodic-gateway.js';
import { MEMO_PERIODIC, scheduleSearchAttributes } from '../../src/api/periodic-record.js';
import { jobTimings } from '../../src/api/serve-app.js';
import { createSealer } from '../../src/secrets/sealer.js';
import { JobStatus, type JobStats } from '../../src/shared/job-model.js';
import { JobTaskQueueKey } from '../../src/shared/search-attributes.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { deleteSchedules } from '../helpers/schedules.js';
import { waitFor } from '../helpers/wait-for.js';
import { BackgroundWork } from '../../src/process/background-work.js';

/**
 * Two deployments sharing a namespace, each on its own task queue, list only their own periodic
 * jobs, as they list only their own other jobs; a schedule made before schedules carried their
 * task queue is listed by both, until an API of the deployment it starts its executions on claims it.
 */
describe('periodic lists of deployments sharing a namespace', () => {
  let a: Harness;
  let b: Harness;
  const schedules: string[] = [];
  before(async () => {
    a = await createHarness({ worker: false });
    b = await createHarness({ worker: false });
  });
  after(async () => {
    await deleteSchedules(a.client, schedules);
    await a.close();
    await b.close();
  });

  const periodicIds = async (h: Harness) =>
    ((await (await h.request('GET', '/api/v1/jobs?kind=Periodic&name=NOOP&page_size=100')).json()) as { job: JobStats }[]).map(
      (r) => r.job.id,
    );

  it('each lists its own and the old ones, never the other’s', async () => {
    const submit = async (h: Harness) => {
      const job = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: '0 0 0 1 1 *' } });
      schedules.push(job.id);
      return job.id;
    };
    const ofA = await submit(a);
    const ofB = await submit(b);
    // A schedule as this service made them before they carried their task queue.
    const old = randomBytes(12).toString('hex');
    const now = Math.floor(Date.now() / 1000);
    await a.client.schedule.create({
      scheduleId: old,
      spec: { cronExpressions: ['0 0 1 1 *'] },
      action: { type: 'startWorkflow', workflowType: 'ScheduledJob', workflowId: old, taskQueue: a.config.temporal.task_queue, args: [] },
      state: { paused: true },
      memo: { [MEMO_PERIODIC]: { id: old, name: 'NOOP', parameters: {}, cronSpec: '0 0 0 1 1 *', options: {}, enqueueTime: now } },
      typedSearchAttributes: scheduleSearchAttributes('NOOP', JobStatus.Scheduled, undefined),
    });
    schedules.push(old);
    for (const [h, own, other] of [
      [a, ofA, ofB],
      [b, ofB, ofA],
    ] as const) {
      const ids = await waitFor(
        () => periodicIds(h),
        (list) => list.includes(own) && list.includes(old),
        { what: `${h.config.temporal.task_queue}'s periodic jobs listed` },
      );
      assert.ok(!ids.includes(other), `${h.config.temporal.task_queue} lists the other deployment's periodic job`);
    }
    // A stop (an update of the schedule's search attributes) keeps it in its own deployment's list.
    assert.equal((await a.request('POST', `/api/v1/jobs/${ofA}`, { action: 'stop' })).status, 204);
    const stopped = await waitFor(
      async () =>
        (
          (await (await a.request('GET', '/api/v1/jobs?kind=Periodic&name=NOOP&status=Stopped&page_size=100')).json()) as {
            job: JobStats;
          }[]
        ).map((r) => r.job.id),
      (list) => list.includes(ofA),
      { what: 'the stopped periodic job listed as Stopped' },
    );
    assert.ok(stopped.includes(ofA));
    assert.ok(!(await periodicIds(b)).includes(ofA));
  });

  it('an old schedule is claimed by its own deployment as its API starts', async () => {
    const job = await a.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: '0 0 0 1 1 *' } });
    schedules.push(job.id);
    const handle = a.client.schedule.getHandle(job.id);
    // As this service made it before schedules carried their task queue.
    await handle.update((s) => ({
      ...s,
      // The description's untyped copy would add the task queue back.
      searchAttributes: undefined,
      typedSearchAttributes: scheduleSearchAttributes('NOOP', JobStatus.Scheduled, undefined),
    }));
    await waitFor(
      () => periodicIds(b),
      (list) => list.includes(job.id),
      { what: 'the unclaimed schedule listed by the other deployment' },
    );
    // What a's API does as it starts (serve-app: refreshPolicies in the background).
    const gateway = new PeriodicGateway({
      background: new BackgroundWork(),
      client: a.client,
      taskQueue: a.config.temporal.task_queue,
      registry: testRegistry(),
      timings: jobTimings(a.config),
      sealer: createSealer(a.config.job.sealing_keys),
    });
    assert.ok((await gateway.refreshPolicies()) >= 1);
    // The scheduler takes an update as a signal: a describe right after it may not show it yet.
    await waitFor(
      () => handle.describe(),
      (d) => d.typedSearchAttributes.get(JobTaskQueueKey) === a.config.temporal.task_queue,
      { what: "the schedule carrying its deployment's task queue" },
    );
    await waitFor(
      () => periodicIds(b),
      (list) => !list.includes(job.id),
      { what: 'the claimed schedule gone from the other deployment' },
    );
    assert.ok((await periodicIds(a)).includes(job.id));
    assert.equal((await a.stats(job.id)).status, 'Scheduled');
    assert.equal(await gateway.refreshPolicies(), 0, 'claimed once');
  });
});
