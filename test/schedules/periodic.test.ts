import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { CronExpressionParser } from 'cron-parser';
import { executionAlias } from '../../src/shared/job-id.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { periodicSuite } from '../helpers/schedules.js';
import type { Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { temporalCli, updateScheduleWithCli } from '../helpers/temporal-cli.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { startHookReceiver } from '../helpers/hook-receiver.js';
import { PeriodicGateway } from '../../src/api/periodic-gateway.js';
import { jobTimings } from '../../src/api/serve-app.js';
import type { StartInput } from '../../src/shared/start-input.js';
import { createSealer } from '../../src/secrets/sealer.js';
import { BackgroundWork } from '../../src/process/background-work.js';

describe('periodic jobs on Temporal Schedules', () => {
  let h: Harness;
  const { periodic, executions, created } = periodicSuite((harness) => (h = harness));
  const act = async (id: string, action: string) => (await h.request('POST', `/api/v1/jobs/${id}`, { action })).status;
  /** `temporal schedule update` as an operator runs it: the whole action again (its input as it is), a new cron, and `flags`. */
  const updateWithCli = async (id: string, ...flags: string[]) => {
    const action = (await h.client.schedule.getHandle(id).describe()).action as { args?: unknown[] };
    const input = ['--input', JSON.stringify(action.args?.[0])];
    updateScheduleWithCli(h.config.temporal.address!, h.config.temporal.task_queue, id, '0 12 * * *', ...input, ...flags);
  };
  /** A periodic NOOP job as the list of periodic jobs shows it. */
  const asListed = async (id: string) =>
    ((await (await h.request('GET', '/api/v1/jobs?kind=Periodic&name=NOOP&page_size=100')).json()) as { job: JobStats }[])
      .map((r) => r.job)
      .find((j) => j.id === id);
  /** A gateway as another API process would build it, configured as `config` says. */
  const gatewayOf = (config: typeof h.config) =>
    new PeriodicGateway({
      background: new BackgroundWork(),
      client: h.client,
      taskQueue: h.config.temporal.task_queue,
      registry: testRegistry(),
      timings: jobTimings(config),
      sealer: createSealer(config.job.sealing_keys),
    });

  it('fires a seconds-precision Harbor spec every 2 s; executions carry the upstream id and the @epoch alias works', async () => {
    const job = await periodic('*/2 * * * * *');
    assert.equal(job.kind, 'Periodic');
    assert.equal(job.status, 'Scheduled');
    assert.equal(job.cron_spec, '*/2 * * * * *');
    assert.equal(job.paused, false);
    assert.equal(job.next_run_times?.length, 5);
    const gaps = job.next_run_times!.slice(1).map((t, i) => Date.parse(t) - Date.parse(job.next_run_times![i]!));
    assert.deepEqual(gaps, [2000, 2000, 2000, 2000]);
    for (const t of job.next_run_times!) assert.equal(new Date(t).getUTCSeconds() % 2, 0);

    const done = await waitFor(
      () => executions(job.id),
      // Total-Count is visibility's count, which may trail the list a moment.
      (r) => r.jobs.filter((j) => j.status === 'Success').length >= 2 && r.total >= 2,
      {
        what: 'two successful executions',
      },
    );
    const execution = done.jobs.find((j) => j.status === 'Success')!;
    assert.equal(execution.kind, 'Scheduled');
    assert.equal(execution.upstream_job_id, job.id);
    assert.match(execution.id, new RegExp(`^${job.id}-\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$`));
    assert.ok(done.total >= 2);

    const alias = executionAlias(execution.id)!;
    assert.match(alias, /^[0-9a-f]{24}@\d+$/);
    const viaAlias = await h.stats(alias);
    assert.equal(viaAlias.id, execution.id);
    assert.equal((await h.request('GET', `/api/v1/jobs/${alias}/log`)).status, 200);

    const stats = await h.stats(job.id);
    assert.ok(stats.last_schedule_time && stats.last_schedule_time >= job.enqueue_time);
    assert.equal(await act(job.id, 'stop'), 204);
  });

  it('pause, resume and trigger through the API; an operator pause with the Temporal CLI shows in the API', async () => {
    const job = await periodic('0 0 0 1 1 *');
    assert.equal(await act(job.id, 'pause'), 204);
    let stats = await h.stats(job.id);
    assert.equal(stats.paused, true);
    assert.deepEqual(stats.next_run_times, []);
    assert.equal(await act(job.id, 'resume'), 204);
    assert.equal((await h.stats(job.id)).paused, false);

    const address = h.config.temporal.address!;
    temporalCli(address, 'schedule', 'toggle', '--schedule-id', job.id, '--pause', '--reason', 'maintenance');
    stats = await h.stats(job.id);
    assert.equal(stats.paused, true);
    assert.match(temporalCli(address, 'schedule', 'describe', '--schedule-id', job.id, '-o', 'json'), /maintenance/);

    assert.equal(await act(job.id, 'trigger'), 204);
    const ran = await waitFor(
      () => executions(job.id),
      (r) => r.jobs.some((j) => j.status === 'Success'),
      {
        what: 'the triggered execution',
      },
    );
    assert.equal(ran.total, 1);
  });

  it('stop: no more fires, running executions stopped, stats still readable as Stopped', async () => {
    const job = await periodic('* * * * * *', { concurrency_policy: 'Allow' }, { duration_ms: 60_000 });
    await waitFor(
      () => executions(job.id, 'non_dead_only=true'),
      (r) => r.total >= 1,
      { what: 'a running execution' },
    );
    assert.equal(await act(job.id, 'stop'), 204);
    const stopped = await h.stats(job.id);
    assert.equal(stopped.status, 'Stopped');
    await waitFor(
      () => executions(job.id, 'non_dead_only=true'),
      (r) => r.total === 0,
      { what: 'no running execution' },
    );
    const all = await executions(job.id, 'page_size=100');
    for (const execution of all.jobs) assert.equal(execution.status, 'Stopped');
    assert.equal(await act(job.id, 'resume'), 409);
    assert.equal(await act(job.id, 'retry'), 409);
    assert.equal((await h.stats(job.id)).status, 'Stopped');
  });

  it('Forbid skips fires while an execution runs, and counts them', async () => {
    const job = await periodic('* * * * * *', { concurrency_policy: 'Forbid' }, { duration_ms: 3500 });
    const stats = await waitFor(
      () => h.stats(job.id),
      (s) => (s.skipped ?? 0) >= 2,
      { what: 'skipped fires' },
    );
    assert.ok((stats.active ?? 0) <= 1);
    assert.equal(await act(job.id, 'stop'), 204);
  });

  it('Forbid: a trigger while an execution runs answers 409, where the schedule skips it', async () => {
    const job = await periodic('@yearly', { concurrency_policy: 'Forbid' }, { duration_ms: 60_000 });
    assert.equal(await act(job.id, 'trigger'), 204);
    await waitFor(
      () => h.stats(job.id),
      (s) => (s.active ?? 0) === 1,
      { what: 'the triggered execution running' },
    );
    const refused = await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' });
    assert.equal(refused.status, 409, await refused.clone().text());
    assert.match(((await refused.json()) as { description: string }).description, /Forbid/);
    assert.equal((await h.stats(job.id)).skipped, 1);
    assert.equal(await act(job.id, 'stop'), 204);
  });

  it('Replace cancels the running execution when the next fire comes; Allow lets them overlap', async () => {
    const replace = await periodic('* * * * * *', { concurrency_policy: 'Replace' }, { duration_ms: 60_000 });
    const replaced = await waitFor(
      () => executions(replace.id, 'page_size=100'),
      (r) => r.jobs.some((j) => j.status === 'Cancelled') && r.jobs.some((j) => j.status === 'Running'),
      { what: 'a cancelled execution and its running replacement' },
    );
    const cancelled = replaced.jobs.find((j) => j.status === 'Cancelled')!;
    const running = replaced.jobs.find((j) => j.status === 'Running')!;
    assert.ok(running.id > cancelled.id, 'the newer fire replaced the older one');
    // Replace keeps one at a time; visibility's count can lag a replacement by a moment either way.
    await waitFor(
      () => h.stats(replace.id),
      (s) => s.active === 1,
      { what: 'one active execution' },
    );
    assert.equal(await act(replace.id, 'stop'), 204);

    const allow = await periodic('* * * * * *', { concurrency_policy: 'Allow' }, { duration_ms: 60_000 });
    const overlapping = await waitFor(
      () => h.stats(allow.id),
      (s) => (s.active ?? 0) >= 2,
      { what: 'two executions at once' },
    );
    assert.equal(overlapping.skipped, 0);
    assert.equal(await act(allow.id, 'stop'), 204);
  });

  /** Milliseconds from the start of the first cancelled execution to the start of the one after it. */
  const replacementGap = async (jobs: JobStats[]) => {
    const started = async (id: string) => (await h.client.workflow.getHandle(id).describe()).startTime.getTime();
    const byId = [...jobs].sort((a, b) => (a.id < b.id ? -1 : 1));
    const cancelled = byId.find((j) => j.status === 'Cancelled')!;
    const next = byId.find((j) => j.id > cancelled.id)!;
    return (await started(next.id)) - (await started(cancelled.id));
  };

  it('Replace: an execution whose run ignores the cancel does not hold back the next fire past the stop grace', async () => {
    // Its code runs ~10 s whatever it is told; fires come every 3 s; the stop grace is 2 s.
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-replace', step_ms: 5000, hold_ms: 0, ignore_stop: true },
      metadata: { kind: 'Periodic', cron_spec: '*/3 * * * * *', concurrency_policy: 'Replace' },
    });
    created.push(job.id);
    const replaced = await waitFor(
      () => executions(job.id, 'page_size=100'),
      (r) => r.jobs.some((j) => j.status === 'Cancelled') && r.jobs.length >= 2,
      { timeoutMs: 30_000, what: 'a cancelled execution and the one after it' },
    );
    assert.equal(await act(job.id, 'stop'), 204);
    const gap = await replacementGap(replaced.jobs);
    // Its fire (3 s) plus the grace (2 s), not the ignored run's 10 s.
    assert.ok(gap < 8_000, `the next execution started ${gap} ms after the cancelled one`);
  });

  it('Replace: a status hook receiver that is down does not hold back the next fire (the cancelled one hands its hooks over at once)', async () => {
    const receiver = await startHookReceiver();
    receiver.setDown(true);
    try {
      // Honours the cancel at once; fires every 3 s; the last hooks would otherwise drain for hook_drain_ms (5 s).
      const job = await h.submit({
        name: 'NOOP',
        parameters: { duration_ms: 60_000 },
        status_hook: receiver.url('replace'),
        metadata: { kind: 'Periodic', cron_spec: '*/3 * * * * *', concurrency_policy: 'Replace' },
      });
      created.push(job.id);
      const input = ((await h.client.schedule.getHandle(job.id).describe()).action as { args: StartInput[] }).args[0]!;
      assert.equal(input.timings?.hooks?.drainMs, 0);
      const replaced = await waitFor(
        () => executions(job.id, 'page_size=100'),
        (r) => r.jobs.some((j) => j.status === 'Cancelled') && r.jobs.length >= 2,
        { timeoutMs: 30_000, what: 'a cancelled execution and the one after it' },
      );
      assert.equal(await act(job.id, 'stop'), 204);
      const gap = await replacementGap(replaced.jobs);
      // Its fire (3 s), not the fire plus the drain (8 s).
      assert.ok(gap < 6_500, `the next execution started ${gap} ms after the cancelled one`);
    } finally {
      receiver.setDown(false);
      await receiver.close();
    }
  });

  it('Forbid: a status hook receiver that accepts and never answers does not make the schedule skip fires', async () => {
    const receiver = await startHookReceiver();
    receiver.setHanging(true);
    try {
      // Runs 1 s of every 4; each POST would hang for hook_timeout_seconds (10 s) if the execution waited for it.
      const job = await h.submit({
        name: 'NOOP',
        parameters: { duration_ms: 1000 },
        status_hook: receiver.url('forbid-hanging'),
        metadata: { kind: 'Periodic', cron_spec: '*/4 * * * * *', concurrency_policy: 'Forbid' },
      });
      created.push(job.id);
      await waitFor(
        () => executions(job.id, 'page_size=100'),
        (r) => r.jobs.filter((j) => j.status === 'Success').length >= 3,
        { timeoutMs: 40_000, what: 'three executions' },
      );
      assert.equal(await act(job.id, 'stop'), 204);
      assert.equal((await h.client.schedule.getHandle(job.id).describe()).info.numActionsSkippedOverlap, 0);
    } finally {
      receiver.setHanging(false);
      await receiver.close();
    }
  });

  it('history limits keep the newest successful and failed executions and delete the rest with their logs', async () => {
    const job = await h.submit({
      name: 'TEST_FLIP',
      parameters: {},
      metadata: { kind: 'Periodic', cron_spec: '* * * * * *', successful_jobs_history_limit: 2, failed_jobs_history_limit: 1 },
    });
    created.push(job.id);
    assert.deepEqual(job.options, { successful_jobs_history_limit: 2, failed_jobs_history_limit: 1 });
    const schedule = h.client.schedule.getHandle(job.id);
    const early = await waitFor(
      () => executions(job.id, 'page_size=100'),
      (r) => r.jobs.some((j) => j.status === 'Success'),
      {
        what: 'a first successful execution',
      },
    );
    // The oldest success (ids end with the fire's time): under load the first read can come several
    // fires in, when the newest success seen then may still be among the two kept at the end.
    const first = early.jobs.filter((j) => j.status === 'Success').sort((a, b) => (a.id < b.id ? -1 : 1))[0]!;
    const firstRun = (await h.client.workflow.getHandle(first.id).describe()).runId;
    assert.ok(existsSync(join(h.logDir, `${first.id}.log`)), 'the execution wrote a log');
    // Seven fires after that first read (not seven in all): at least three successes follow it, so it
    // is beyond the limit of two however late the read came.
    const firesSeen = (await schedule.describe()).info.numActionsTaken;
    await waitFor(
      () => schedule.describe(),
      (d) => d.info.numActionsTaken >= Math.max(7, firesSeen + 7),
      { what: 'seven fires after the first success was read' },
    );
    assert.equal(await act(job.id, 'pause'), 204);
    await waitFor(
      () => h.stats(job.id),
      (s) => s.active === 0,
      { what: 'the last execution to end' },
    );

    const kept = await waitFor(
      () => executions(job.id, 'page_size=100'),
      (r) => r.total === 3,
      // Each prune is the server's asynchronous delete, which visibility reflects late on a loaded server.
      { timeoutMs: 60_000, what: 'exactly the executions within the limits' },
    );
    const statuses = kept.jobs.map((j) => j.status).sort();
    assert.deepEqual(statuses, ['Error', 'Success', 'Success']);
    // The kept ones are the newest of each kind.
    const fired = (await schedule.describe()).info.recentActions
      .map((a) => a.action.workflow.workflowId)
      .sort()
      .reverse();
    const newestSuccess = kept.jobs
      .filter((j) => j.status === 'Success')
      .map((j) => j.id)
      .sort()
      .reverse();
    const successesFired = fired.filter((id) => Number(id.slice(-3, -1)) % 2 === 0).slice(0, 2);
    assert.deepEqual(newestSuccess, successesFired);
    assert.equal(
      kept.jobs.find((j) => j.status === 'Error')!.id,
      fired.find((id) => Number(id.slice(-3, -1)) % 2 === 1),
    );

    assert.ok(!kept.jobs.some((j) => j.id === first.id), 'the first success is beyond the limit');
    // The pruned run itself must go. Visibility drops it before the server has removed its state,
    // which usually follows within milliseconds but can wait behind retries (3 s × 1.5ⁿ while the
    // run's close task is not yet acknowledged), so the run is awaited first. Then its id must be
    // free: the pruner deletes only executions whose start the schedule has recorded, so no retried
    // start of that fire (the scheduler starts from a retried local activity) can bring it back.
    await waitFor(
      () =>
        h.client.workflow
          .getHandle(first.id, firstRun)
          .describe()
          .then(
            (d) => `present (${d.status.name})`,
            (err: unknown) => (err instanceof WorkflowNotFoundError ? 'gone' : `unknown: ${String(err)}`),
          ),
      (s) => s === 'gone',
      { timeoutMs: 210_000, what: `the pruned run ${firstRun} of ${first.id} to be gone` },
    );
    const again = await h.client.workflow
      .getHandle(first.id)
      .describe()
      .then(
        (d) => `run ${d.runId} (${d.status.name}), started ${d.startTime.toISOString()}`,
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        },
      );
    assert.equal(again, undefined, `the pruned fire ${first.id} was started again`);
    assert.equal((await h.request('GET', `/api/v1/jobs/${first.id}`)).status, 404);
    assert.ok(!existsSync(join(h.logDir, `${first.id}.log`)), 'the deleted execution’s log is gone');
    const stats = await h.stats(job.id);
    const newestSuccessStats = await h.stats(newestSuccess[0]!);
    assert.ok(stats.last_successful_time !== undefined && stats.last_successful_time >= newestSuccessStats.enqueue_time);
    assert.equal(await act(job.id, 'stop'), 204);
  });

  it('operators trigger and backfill with the Temporal CLI; the executions show in the API at once', async () => {
    const job = await periodic('*/5 * * * * *', { suspend: true });
    const run = (...args: string[]) => temporalCli(h.config.temporal.address!, 'schedule', ...args, '--schedule-id', job.id);
    run('trigger');
    await waitFor(
      () => executions(job.id),
      (r) => r.total === 1,
      { what: 'the triggered execution' },
    );

    // Backfill a past minute: the fires at :00, :05 … :55 of it run now, with their nominal times as ids.
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000);
    const end = new Date(minute.getTime() + 59_000);
    run('backfill', '--start-time', minute.toISOString(), '--end-time', end.toISOString(), '--overlap-policy', 'AllowAll');
    const all = await waitFor(
      () => executions(job.id, 'page_size=100'),
      (r) => r.total === 13,
      { what: 'twelve backfilled executions' },
    );
    const stamp = minute.toISOString().slice(0, 16);
    const backfilled = all.jobs
      .filter((j) => j.id.slice(25).startsWith(stamp))
      .map((j) => j.id.slice(-3, -1))
      .sort();
    assert.deepEqual(backfilled, ['00', '05', '10', '15', '20', '25', '30', '35', '40', '45', '50', '55']);
    await waitFor(
      () => executions(job.id, 'non_dead_only=true'),
      (r) => r.total === 0,
      { what: 'the backfill to finish' },
    );
    assert.equal((await h.stats(job.id)).paused, true, 'a backfill does not unpause the job');
  });

  it('gives next run times in the job’s zone, matching an independent cron implementation across DST', async () => {
    const job = await periodic('0 9 1 * *', { timezone: 'America/New_York', suspend: false });
    const expected = CronExpressionParser.parse('0 9 1 * *', { currentDate: new Date(), tz: 'America/New_York' });
    const reference = Array.from({ length: 5 }, () => Date.parse(expected.next().toISOString()!));
    assert.deepEqual(
      job.next_run_times!.map((t) => Date.parse(t)),
      reference,
    );
    for (const t of job.next_run_times!) assert.match(t, /T09:00:00-0[45]:00$/);
    assert.deepEqual(job.options, { timezone: 'America/New_York', suspend: false });

    const suspended = await periodic('@hourly', { suspend: true });
    assert.equal(suspended.paused, true);
    assert.deepEqual(suspended.next_run_times, []);
    assert.equal(await act(suspended.id, 'resume'), 204);
    const resumed = await h.stats(suspended.id);
    assert.equal(resumed.paused, false);
    assert.equal(resumed.next_run_times?.length, 5);
    for (const t of resumed.next_run_times!) assert.match(t, /T\d{2}:00:00Z$/);
  });

  it('lists periodic jobs with kind=Periodic, filtered by name and status (Stopped after a stop)', async () => {
    const a = await periodic('@yearly');
    const b = await periodic('@monthly', { timezone: 'Asia/Tokyo' });
    assert.equal(await act(b.id, 'stop'), 204);
    const list = async (query: string) => {
      const response = await h.request('GET', `/api/v1/jobs?kind=Periodic&page_size=100&${query}`);
      assert.equal(response.status, 200, await response.clone().text());
      const jobs = ((await response.json()) as { job: JobStats }[]).map((i) => i.job);
      return { total: Number(response.headers.get('total-count')), jobs };
    };
    // Listing reads visibility, which follows the schedules a moment later.
    const all = await waitFor(
      () => list('name=NOOP'),
      (r) => r.jobs.some((j) => j.id === a.id) && r.jobs.some((j) => j.id === b.id && j.status === 'Stopped'),
      { what: 'both periodic jobs listed, one of them stopped' },
    );
    assert.ok(all.total >= 2);
    for (const job of all.jobs) assert.equal(job.kind, 'Periodic');
    // Harbor's cursor walks the same listing a job at a time, to a Next-Cursor of 0.
    const walked: string[] = [];
    for (let cursor = '0', pages = 0; ; pages++) {
      assert.ok(pages <= all.total + 100, 'the cursor ends');
      const response = await h.request('GET', `/api/v1/jobs?kind=Periodic&name=NOOP&page_size=1&cursor=${cursor}`);
      walked.push(...((await response.json()) as { job: JobStats }[]).map((i) => i.job.id));
      cursor = response.headers.get('next-cursor')!;
      if (cursor === '0') break;
    }
    // Other test files list periodic NOOP jobs of their own meanwhile: this file's two are walked past.
    assert.ok(walked.includes(a.id) && walked.includes(b.id), `walked ${walked.join(' ')}`);
    const listedA = all.jobs.find((j) => j.id === a.id)!;
    assert.equal(listedA.cron_spec, '@yearly');
    assert.equal(listedA.status, 'Scheduled');
    assert.equal(listedA.next_run_times?.length, 5);
    const listedB = all.jobs.find((j) => j.id === b.id)!;
    assert.equal(listedB.status, 'Stopped');
    assert.deepEqual(listedB.options, { timezone: 'Asia/Tokyo' });

    const stopped = await waitFor(
      () => list('name=NOOP&status=Stopped'),
      (r) => r.jobs.some((j) => j.id === b.id),
      {
        what: 'the stopped job under status=Stopped',
      },
    );
    assert.ok(!stopped.jobs.some((j) => j.id === a.id));
    for (const job of stopped.jobs) assert.equal(job.status, 'Stopped');
    assert.equal(stopped.total, stopped.jobs.length);
    const none = await list('name=TEST_CHATTY');
    assert.ok(!none.jobs.some((j) => j.id === a.id || j.id === b.id));

    // The operator's view: the same filter with the Temporal CLI.
    const listed = temporalCli(
      h.config.temporal.address!,
      'schedule',
      'list',
      '--query',
      `JobName = "NOOP" AND JobStatus = "Stopped"`,
      '-o',
      'json',
    );
    assert.match(listed, new RegExp(b.id));
    assert.doesNotMatch(listed, new RegExp(a.id));

    // An operator deletes the schedule: the job is gone from the list and from the count.
    await h.client.schedule.getHandle(b.id).delete();
    const afterDelete = await waitFor(
      () => list('name=NOOP&status=Stopped'),
      // The count and the list are two visibility reads; both catch up with the delete.
      (r) => !r.jobs.some((j) => j.id === b.id) && r.total === r.jobs.length,
      {
        what: 'the deleted job to leave the list and the count',
      },
    );
    assert.equal(afterDelete.total, afterDelete.jobs.length);
    assert.equal((await h.request('GET', `/api/v1/jobs/${b.id}`)).status, 404);
  });

  it('a stopped job an operator revives with `temporal schedule toggle --unpause` reads Scheduled in GET and lists alike; an API pause keeps it Scheduled', async () => {
    const job = await periodic('@yearly');
    assert.equal(await act(job.id, 'stop'), 204);
    temporalCli(
      h.config.temporal.address!,
      'schedule',
      'toggle',
      '--schedule-id',
      job.id,
      '--unpause',
      '--reason',
      'operator wants it back',
    );
    const revived = await h.stats(job.id);
    assert.deepEqual([revived.status, revived.paused], ['Scheduled', false]);
    const ids = async (status: string) =>
      ((await (await h.request('GET', `/api/v1/jobs?kind=Periodic&status=${status}&page_size=100`)).json()) as { job: JobStats }[])
        .filter((i) => i.job.id === job.id)
        .map((i) => i.job.status);
    // Visibility follows the schedule a moment later.
    assert.deepEqual(
      await waitFor(
        () => ids('Scheduled'),
        (rows) => rows.length === 1,
        { what: 'listed under Scheduled' },
      ),
      ['Scheduled'],
    );
    assert.deepEqual(await ids('Stopped'), []);

    assert.equal(await act(job.id, 'pause'), 204);
    const paused = await h.stats(job.id);
    assert.deepEqual([paused.status, paused.paused], ['Scheduled', true]);
    await waitFor(
      () =>
        h.client.workflow.count(
          `TemporalNamespaceDivision = 'TemporalScheduler' AND WorkflowId = 'temporal-sys-scheduler:${job.id}' AND TemporalSchedulePaused = true AND JobStatus = 'Scheduled'`,
        ),
      (r) => r.count === 1,
      { what: 'the pause in visibility' },
    );
    assert.deepEqual(await ids('Scheduled'), ['Scheduled']);
    assert.deepEqual(await ids('Stopped'), []);
  });

  it('a stopped job an operator revives and then pauses with the CLI lists as the paused Scheduled job GET reads, under either filter', async () => {
    const job = await periodic('@yearly');
    assert.equal(await act(job.id, 'stop'), 204);
    const toggle = (...args: string[]) => temporalCli(h.config.temporal.address!, 'schedule', 'toggle', '--schedule-id', job.id, ...args);
    toggle('--unpause', '--reason', 'operator wants it back');
    toggle('--pause', '--reason', 'operator holds it for now');
    const rows = async (status?: string) =>
      (
        (await (await h.request('GET', `/api/v1/jobs?kind=Periodic&page_size=100${status ? `&status=${status}` : ''}`)).json()) as {
          job: JobStats;
        }[]
      )
        .filter((i) => i.job.id === job.id)
        .map((i) => [i.job.status, i.job.paused]);
    // No GET of the job in between: a list that shows the row is what sets its status straight.
    // Visibility follows the CLI's toggles a moment later.
    await waitFor(
      () => rows(),
      (r) => r.length === 1 && r[0]![0] === 'Scheduled' && r[0]![1] === true,
      { what: 'the operator’s pause in the list (not the stop’s, which visibility may show first)' },
    );
    await waitFor(
      async () => [await rows('Stopped'), await rows('Scheduled')],
      ([stopped, scheduled]) => stopped!.length === 0 && scheduled!.length === 1,
      { what: 'the status filters to agree with the row' },
    );
    assert.deepEqual(await rows('Scheduled'), [['Scheduled', true]]);
    const stats = await h.stats(job.id);
    assert.deepEqual([stats.status, stats.paused, stats.paused_note], ['Scheduled', true, 'operator holds it for now']);
    // And the API resumes it, as any paused job.
    assert.equal(await act(job.id, 'resume'), 204);
    assert.equal((await h.stats(job.id)).paused, false);
  });

  it('takes a zone named in the spec (CRON_TZ=, as Harbor’s cron parser does) as the job’s zone; a bad or conflicting one is a 400', async () => {
    const job = await periodic('CRON_TZ=Asia/Tokyo 0 30 9 * * *');
    assert.equal(job.options?.timezone, 'Asia/Tokyo');
    assert.match(job.next_run_times?.[0] ?? '', /T09:30:00\+09:00$/, JSON.stringify(job.next_run_times));
    assert.equal((await h.client.schedule.getHandle(job.id).describe()).spec.timezone, 'Asia/Tokyo');
    assert.match((await periodic('TZ=UTC @daily')).next_run_times?.[0] ?? '', /T00:00:00Z$/);
    for (const [cron, extra, mentions] of [
      ['CRON_TZ=Mars/Olympus 0 0 * * * *', {}, /cron_spec.*CRON_TZ=Mars\/Olympus/],
      ['CRON_TZ=Asia/Tokyo 0 0 * * * *', { timezone: 'Europe/Paris' }, /cron_spec.*Asia\/Tokyo.*Europe\/Paris/],
    ] as const) {
      const response = await h.request('POST', '/api/v1/jobs', {
        job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: cron, ...extra } },
      });
      const body = (await response.json()) as { code: number; description: string };
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(body.code, 10013);
      assert.match(body.description, mentions);
    }
  });

  it('two triggers in a row start two executions: the second waits for a second of its own', async () => {
    const job = await periodic('@yearly', { suspend: true }, { duration_ms: 0 });
    assert.equal(await act(job.id, 'trigger'), 204);
    assert.equal(await act(job.id, 'trigger'), 204);
    const listed = await waitFor(
      () => executions(job.id, 'page_size=100'),
      (e) => e.total === 2 && e.jobs.every((j) => j.status === 'Success'),
      { what: 'two executions, both done' },
    );
    assert.notEqual(listed.jobs[0]!.id, listed.jobs[1]!.id);
    assert.equal((await h.client.schedule.getHandle(job.id).describe()).info.numActionsTaken, 2);
  });

  it('an execution of a schedule an operator replaced with `temporal schedule update` is still a job of the API', async () => {
    const job = await periodic('@yearly');
    // The CLI's update takes the whole action (type, id, task queue, input) and sets no memo or search attributes.
    await updateWithCli(job.id);
    temporalCli(h.config.temporal.address!, 'schedule', 'trigger', '--schedule-id', job.id);
    const execution = await waitFor(
      async () => {
        for await (const e of h.client.workflow.list({ query: `TemporalScheduledById = '${job.id}'` })) return e.workflowId;
        return undefined;
      },
      (id) => id !== undefined,
      { what: 'the triggered execution' },
    );
    const stats = await h.waitForStatus(execution!, ['Success', 'Error']);
    assert.deepEqual([stats.name, stats.upstream_job_id, stats.status], ['NOOP', job.id, 'Success']);
    const listed = await waitFor(
      async () =>
        ((await (await h.request('GET', `/api/v1/jobs/${job.id}/executions`)).json()) as { job: JobStats }[]).map((i) => i.job.id),
      (ids) => ids.includes(execution!),
      { what: 'the execution under /executions' },
    );
    assert.ok(listed.includes(execution!));
  });

  it('GET shows the policies an operator set with `temporal schedule update`, not the options as submitted', async () => {
    const job = await periodic('0 0 6 * * *', { concurrency_policy: 'Allow', starting_deadline_seconds: 30, timezone: 'Europe/Berlin' });
    const before = await h.stats(job.id);
    assert.deepEqual(before.options, { concurrency_policy: 'Allow', starting_deadline_seconds: 30, timezone: 'Europe/Berlin' });
    const update = (...flags: string[]) => updateWithCli(job.id, ...flags);
    await update('--overlap-policy', 'Skip', '--catchup-window', '2m', '--time-zone', 'America/New_York', '--jitter', '5s');
    const after = await h.stats(job.id);
    assert.deepEqual(after.options, {
      concurrency_policy: 'Forbid',
      starting_deadline_seconds: 120,
      timezone: 'America/New_York',
      jitter_seconds: 5,
    });
    // Noon in New York, in New York's offset.
    assert.match(after.next_run_times![0]!, /T12:00:0[0-5]-0[45]:00$/, 'noon, give or take the jitter');
    // A list shows the schedule's zone and jitter too (its spec; a list carries no policies).
    const listed = await waitFor(
      () => asListed(job.id),
      (j) => j?.options?.timezone === 'America/New_York',
      { what: 'the list to show the new zone' },
    );
    assert.equal(listed!.options!.jitter_seconds, 5);
    assert.match(listed!.next_run_times![0]!, /T12:00:0[0-5]-0[45]:00$/);
    await update('--overlap-policy', 'BufferOne', '--catchup-window', '2m', '--time-zone', 'America/New_York');
    const buffered = await h.stats(job.id);
    assert.equal(buffered.options!.concurrency_policy, undefined);
    assert.equal(buffered.options!.overlap_policy, 'BUFFER_ONE');
    // An update without a zone or jitter leaves none: UTC, in GET and in lists alike.
    await update('--overlap-policy', 'Skip');
    assert.equal((await h.stats(job.id)).options!.timezone, 'UTC');
    const relisted = await waitFor(
      () => asListed(job.id),
      (j) => j?.options?.timezone === 'UTC',
      { what: 'the list to show UTC' },
    );
    assert.equal(relisted!.options!.jitter_seconds, undefined);
  });

  it('a stopped periodic job is deleted once stopped longer than the namespace retention (its die_at); paused ones stay', async () => {
    const stopped = await periodic('@yearly');
    const paused = await periodic('@yearly');
    assert.equal((await h.request('POST', `/api/v1/jobs/${stopped.id}`, { action: 'stop' })).status, 204);
    assert.equal((await h.request('POST', `/api/v1/jobs/${paused.id}`, { action: 'pause' })).status, 204);
    const stats = await h.stats(stopped.id);
    assert.equal(stats.status, 'Stopped');
    const { info } = await h.client.schedule.getHandle(stopped.id).describe();
    const retention = Number(
      (await h.client.workflowService.describeNamespace({ namespace: h.config.temporal.namespace })).config?.workflowExecutionRetentionTtl
        ?.seconds,
    );
    assert.ok(retention > 0);
    assert.equal(stats.die_at, Math.floor(info.lastUpdatedAt!.getTime() / 1000) + retention);
    assert.equal((await h.stats(paused.id)).die_at, undefined, 'a paused job does not die');
    const gateway = gatewayOf(h.config);
    assert.equal(await gateway.sweepStopped(), 0, 'stopped just now: kept for the retention');
    // As if the retention had passed (visibility lists the Stopped mark a moment after the stop).
    // (Jobs this file stopped earlier go too: the sweep takes every stopped job of the task queue.)
    await waitFor(
      async () => {
        await gateway.sweepStopped(0);
        return (await h.request('GET', `/api/v1/jobs/${stopped.id}`)).status;
      },
      (status) => status === 404,
      { what: 'the stopped job swept' },
    );
    assert.equal((await h.stats(paused.id)).paused, true);
  });

  it('sweeps of stopped jobs read on through the list: younger ones at its head do not keep an expired one for ever', async () => {
    const old = await periodic('@yearly');
    assert.equal(await act(old.id, 'stop'), 204);
    const oldStoppedAt = (await h.client.schedule.getHandle(old.id).describe()).info.lastUpdatedAt!.getTime();
    await waitFor(
      async () => Date.now() - oldStoppedAt,
      (age) => age > 4_000,
      { what: 'the first stop to be 4 s old' },
    );
    const younger = [await periodic('@yearly'), await periodic('@yearly')];
    for (const job of younger) assert.equal(await act(job.id, 'stop'), 204);
    const listed = async () => {
      const ids: string[] = [];
      for await (const s of h.client.schedule.list({ query: `JobStatus = 'Stopped' AND TemporalSchedulePaused = true` }))
        ids.push(s.scheduleId);
      return ids;
    };
    await waitFor(listed, (ids) => [old, ...younger].every((j) => ids.includes(j.id)), { what: 'the three stopped jobs listed' });
    // One describe per sweep; `old` expired (stopped more than keep ago), the younger ones not (stopped 3 s after it, and later).
    const gateway = gatewayOf(h.config);
    await waitFor(
      async () => {
        await gateway.sweepStopped((Date.now() - oldStoppedAt) / 1000 - 1.5, 1);
        return (await h.request('GET', `/api/v1/jobs/${old.id}`)).status;
      },
      (status) => status === 404,
      { what: 'the expired stopped job swept past the younger ones', timeoutMs: 30_000 },
    );
    for (const job of younger) assert.equal((await h.stats(job.id)).status, 'Stopped');
  });

  it('last_successful_time of an execution still handing over its hooks is when it succeeded, not when it started', async () => {
    const receiver = await startHookReceiver();
    receiver.setDown(true);
    try {
      const job = await h.submit({
        name: 'DEMO',
        parameters: { image: 'demo-last-success', step_ms: 1100, hold_ms: 0 },
        status_hook: receiver.url('last-success'),
        metadata: { kind: 'Periodic', cron_spec: '@yearly' },
      });
      created.push(job.id);
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' })).status, 204);
      // Success, and still open: its hooks fail, so it waits out the drain before it hands them over.
      const execution = await waitFor(
        async () => ((await (await h.request('GET', `/api/v1/jobs/${job.id}/executions`)).json()) as { job: JobStats }[])[0]?.job,
        (e) => e?.status === 'Success',
        { what: 'the execution to succeed' },
      );
      const description = await h.client.workflow.getHandle(execution!.id).describe();
      assert.equal(description.status.name, 'RUNNING', 'still handing over its hooks');
      const stats = await waitFor(
        () => h.stats(job.id),
        (s) => s.last_successful_time !== undefined,
        { what: 'last_successful_time' },
      );
      assert.equal(stats.last_successful_time, execution!.update_time);
      assert.ok(
        stats.last_successful_time! >= Math.floor(description.startTime.getTime() / 1000) + 2,
        'two steps of 1.1 s after its start',
      );
    } finally {
      await receiver.close();
    }
  });

  it('as an API starts, periodic jobs take today’s deployment-wide timings and job policies; their own parameters stay', async () => {
    const job = await periodic('@yearly', { concurrency_policy: 'Forbid' }, { duration_ms: 0 });
    const args = async () => ((await h.client.schedule.getHandle(job.id).describe()).action as { args: StartInput[] }).args[0]!;
    const before = await args();
    assert.equal(before.timings?.maxRunMs, undefined, 'the default max_run_hours is left out');
    // The deployment is reconfigured: a longer max_run_hours and stop grace.
    const reconfigured = { ...h.config, job: { ...h.config.job, max_run_hours: 48, stop_grace_seconds: 7 } };
    const gateway = gatewayOf(reconfigured);
    // The refresh reads the schedules visibility lists, which shows one just created a moment later.
    await waitFor(
      async () => {
        for await (const listed of h.client.schedule.list()) if (listed.scheduleId === job.id) return true;
        return false;
      },
      Boolean,
      { what: 'the schedule listed' },
    );
    assert.ok((await gateway.refreshPolicies()) >= 1);
    const after = await args();
    assert.equal(after.timings?.maxRunMs, 48 * 3_600_000);
    assert.equal(after.timings?.stopGraceMs, 7_000);
    // Forbid's executions still hand over failing hooks at once; the job's own input is untouched.
    assert.equal(after.timings?.hooks?.drainMs, 0);
    assert.deepEqual(after.parameters, before.parameters);
    assert.equal(after.upstreamJobId, job.id);
    assert.equal(after.shortCapMs, before.shortCapMs, 'a NOOP of duration 0 is still short');
    assert.equal(await gateway.refreshPolicies(), 0, 'nothing left to update');
    // A rotated key (a new one first, the old one after it): the secrets are sealed again under the new.
    const hooked = await h.submit({
      name: 'NOOP',
      parameters: {},
      status_hook: 'http://127.0.0.1:9/hook?token=rotate-me-123456',
      metadata: { kind: 'Periodic', cron_spec: '@yearly' },
    });
    created.push(hooked.id);
    // GET shows the hook redacted, under the seed README's hook_status too (its example is a Periodic job).
    const shown = await h.stats(hooked.id);
    assert.equal(shown.web_hook_url, 'http://127.0.0.1:9/hook?token=[redacted]');
    assert.equal(shown.hook_status, shown.web_hook_url);
    const hookOf = async () =>
      ((await h.client.schedule.getHandle(hooked.id).describe()).action as { args: StartInput[] }).args[0]!.statusHook!;
    const sealedBefore = await hookOf();
    const newKey = 'a new first sealing key for the test';
    const rotatedConfig = { ...h.config, job: { ...h.config.job, sealing_keys: [newKey, ...h.config.job.sealing_keys] } };
    const rotatedGateway = gatewayOf(rotatedConfig);
    assert.ok((await rotatedGateway.refreshPolicies()) >= 1);
    const sealedAfter = await hookOf();
    assert.match(sealedAfter, new RegExp(`^sealed:v1:${createSealer([newKey]).keyId}:`));
    assert.equal(createSealer([newKey]).unsealText(sealedAfter), 'http://127.0.0.1:9/hook?token=rotate-me-123456');
    assert.notEqual(sealedAfter, sealedBefore);
    // The memo the executions start with says the same (a retry reads the policy fields there).
    const memoInput = (await h.client.schedule.getHandle(job.id).describe()).action as { memo?: Record<string, unknown> };
    assert.equal((memoInput.memo?.input as { shortCapMs?: number } | undefined)?.shortCapMs, after.shortCapMs);
    // A write from a read older than a stop is refused (its conflict token): the stop is not undone.
    const doomed = await periodic('@yearly', { concurrency_policy: 'Forbid' }, { duration_ms: 0 });
    const staleOfDoomed = await h.client.schedule.getHandle(doomed.id).describe();
    assert.equal(await act(doomed.id, 'stop'), 204);
    await gateway.replaceExecutionInput(doomed.id, staleOfDoomed, { ...after, parameters: { duration_ms: 1 } });
    // The scheduler takes updates in order: once a write from a current read shows, the stale one was dropped before it.
    const current = await h.client.schedule.getHandle(doomed.id).describe();
    await gateway.replaceExecutionInput(doomed.id, current, { ...after, parameters: { duration_ms: 2 } });
    const settled = await waitFor(
      () => h.client.schedule.getHandle(doomed.id).describe(),
      (d) => ((d.action as { args: StartInput[] }).args[0]!.parameters as { duration_ms?: number }).duration_ms === 2,
      { what: 'the write from a current read' },
    );
    assert.equal(settled.state.paused, true, 'the stop stands');
    assert.equal((await h.stats(doomed.id)).status, 'Stopped');
    // An execution runs with it.
    assert.equal(await act(job.id, 'trigger'), 204);
    await waitFor(
      () => executions(job.id),
      (e) => e.jobs.length === 1 && e.jobs[0]!.status === 'Success',
      { what: 'the execution after the update' },
    );
  });

  it('answers 400 for executions of a job that is not periodic, and 404 for an unknown periodic id', async () => {
    const { id } = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
    assert.equal((await h.request('GET', `/api/v1/jobs/${id}/executions`)).status, 400);
    assert.equal((await h.request('GET', '/api/v1/jobs/0123456789abcdef01234567/executions')).status, 404);
    assert.equal((await h.request('GET', `/api/v1/jobs/${id}/executions?non_dead_only=maybe`)).status, 400);
    assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'pause' })).status, 400);
  });
});
