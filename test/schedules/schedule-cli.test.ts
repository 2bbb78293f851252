import assert from 'node:assert/strict';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { JobStatusKey } from '../../src/shared/search-attributes.js';
import { periodicSuite } from '../helpers/schedules.js';
import type { Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { temporalCli, updateScheduleWithCli } from '../helpers/temporal-cli.js';

describe('periodic jobs and the `temporal schedule …` CLI', () => {
  let h: Harness;
  const { periodic, executions, created } = periodicSuite((harness) => (h = harness));
  const cli = (...args: string[]) => temporalCli(h.config.temporal.address!, ...args);
  const updateWithCli = (id: string, cron: string, ...flags: string[]) =>
    updateScheduleWithCli(h.config.temporal.address!, h.config.temporal.task_queue, id, cron, ...flags);

  it('a fire an operator backfills a second time is still one execution: /executions lists each id once', async () => {
    // Every 5 s, paused: only the operator's backfills run it.
    const job = await periodic('*/5 * * * * *', { suspend: true }, { duration_ms: 0 });
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000);
    const range = ['--start-time', at.toISOString(), '--end-time', new Date(at.getTime() + 4_000).toISOString()];
    cli('schedule', 'backfill', '--schedule-id', job.id, ...range);
    const first = await waitFor(
      () => executions(job.id),
      (r) => r.jobs.length === 1 && r.jobs[0]!.status === 'Success',
      { what: 'the backfilled fire to succeed' },
    );
    const id = first.jobs[0]!.id;
    assert.ok(id.endsWith(`${at.toISOString().slice(0, 19)}Z`));
    // The operator runs the same backfill again (say, it seemed not to have run).
    cli('schedule', 'backfill', '--schedule-id', job.id, ...range);
    await waitFor(
      () => h.client.schedule.getHandle(job.id).describe(),
      (d) => d.info.numActionsTaken === 2,
      { what: 'the second backfill to be taken' },
    );
    // The second run replaces the first (its deletion reaches visibility a moment later).
    const listed = await waitFor(
      () => executions(job.id),
      (r) => r.total === 1 && r.jobs.length === 1 && r.jobs[0]!.status === 'Success',
      { what: 'one execution listed, Success', timeoutMs: 30_000 },
    ).catch(async (err: unknown) => {
      const ids = (await executions(job.id)).jobs.map((j) => j.id);
      throw new Error(`${String(err)}; listed: ${JSON.stringify(ids)}`);
    });
    assert.equal(listed.jobs[0]!.id, id);
  });

  it('last_schedule_time does not go back to a backfilled past fire after a newer one ran', async () => {
    const job = await periodic('*/5 * * * * *', { suspend: true }, { duration_ms: 0 });
    cli('schedule', 'trigger', '--schedule-id', job.id, '--overlap-policy', 'AllowAll');
    const triggered = await waitFor(
      () => h.stats(job.id),
      (s) => s.last_schedule_time !== undefined,
      { what: 'the trigger to be recorded' },
    );
    const newest = triggered.last_schedule_time!;
    assert.ok(newest >= job.enqueue_time);
    // An operator backfills a fire of an hour ago.
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000);
    cli(
      'schedule',
      'backfill',
      '--schedule-id',
      job.id,
      '--start-time',
      at.toISOString(),
      '--end-time',
      new Date(at.getTime() + 4_000).toISOString(),
      '--overlap-policy',
      'AllowAll',
    );
    await waitFor(
      () => h.client.schedule.getHandle(job.id).describe(),
      (d) => d.info.numActionsTaken === 2,
      { what: 'the backfill to be taken' },
    );
    const stats = await h.stats(job.id);
    const iso = (t: number) => new Date(t * 1000).toISOString();
    // Kubernetes' lastScheduleTime, and the seed README's executions newest first: the trigger's fire is the newest.
    assert.deepEqual(
      { last_schedule_time: iso(stats.last_schedule_time!), newest_execution: stats.executions![0] },
      { last_schedule_time: iso(newest), newest_execution: `${job.id}-${iso(newest).slice(0, 19)}Z` },
    );
  });

  it('a trigger through the API right after an operator backfill is not dropped: two triggers, two executions', async () => {
    let outcome: { sameSecond: boolean; ids: string[] } | undefined;
    for (let attempt = 0; attempt < 3 && !outcome?.sameSecond; attempt++) {
      const job = await periodic('@yearly', { suspend: true }, { duration_ms: 8_000 });
      // Early in a second, so both triggers fall in it.
      await waitFor(
        async () => Date.now() % 1000,
        (ms) => ms < 100,
        { what: 'the start of a second', intervalMs: 5 },
      );
      const second = Math.floor(Date.now() / 1000);
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' })).status, 204);
      // An operator backfills last New Year's fire meanwhile (the SDK's backfill, as `temporal schedule backfill` does).
      const handle = h.client.schedule.getHandle(job.id);
      await handle.backfill({ start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-01T00:00:01Z'), overlap: 'ALLOW_ALL' });
      await waitFor(
        () => handle.describe(),
        (d) => d.info.numActionsTaken === 2,
        { what: 'the backfill taken', intervalMs: 10 },
      );
      const sameSecond = Math.floor(Date.now() / 1000) === second;
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' })).status, 204);
      await new Promise((r) => setTimeout(r, 2_000));
      const ids = (await handle.describe()).info.recentActions.map((a) => a.action.workflow.workflowId);
      outcome = { sameSecond, ids };
    }
    assert.ok(outcome!.sameSecond, 'precondition: the two triggers fell in one second');
    // The trigger, the backfill and the second trigger: three executions.
    assert.equal(outcome!.ids.length, 3, `the schedule took ${JSON.stringify(outcome!.ids)}`);
  });

  it('a schedule an operator creates by hand with the ScheduledJob type: its executions do not break the API', async () => {
    const id = 'abcdef0123456789abcdef01';
    created.push(id);
    cli(
      'schedule',
      'create',
      '--schedule-id',
      id,
      '--workflow-id',
      id,
      '--type',
      'ScheduledJob',
      '--task-queue',
      h.config.temporal.task_queue,
      '--cron',
      '0 0 1 1 *',
      '--paused',
      '--input',
      JSON.stringify({ name: 'NOOP', parameters: {} }),
    );
    cli('schedule', 'trigger', '--schedule-id', id, '--overlap-policy', 'AllowAll');
    const execution = await waitFor(
      async () => (await h.client.schedule.getHandle(id).describe()).info.recentActions[0]?.action.workflow.workflowId,
      (e) => e !== undefined,
      { what: 'the triggered execution' },
    );
    const description = await waitFor(
      () => h.client.workflow.getHandle(execution!).describe(),
      (d) => d.status.name !== 'RUNNING',
      { what: 'the execution to close', timeoutMs: 20_000 },
    ).catch(async (err: unknown) => {
      const history = await h.client.workflow.getHandle(execution!).fetchHistory();
      const failures = (history.events ?? []).flatMap((e) =>
        e.workflowTaskFailedEventAttributes ? [e.workflowTaskFailedEventAttributes.failure?.message] : [],
      );
      throw new Error(`${String(err)}; workflow task failures: ${JSON.stringify(failures.slice(0, 2))}`);
    });
    assert.equal(description.status.name, 'COMPLETED');
    const list = await h.request('GET', '/api/v1/jobs?page_size=100');
    assert.equal(list.status, 200, await list.clone().text());
    const stats = await h.request('GET', `/api/v1/jobs/${execution}`);
    assert.equal(stats.status, 200, await stats.clone().text());
  });

  it('`temporal schedule update --input` written by hand (name and parameters): the execution runs and shows in the API', async () => {
    const job = await periodic('@yearly', { concurrency_policy: 'Forbid' }, { duration_ms: 1 });
    // An operator changes the job's parameters, writing the input as the job was submitted.
    updateWithCli(
      job.id,
      '0 0 1 1 *',
      '--overlap-policy',
      'Skip',
      '--input',
      JSON.stringify({ name: 'NOOP', parameters: { duration_ms: 2 } }),
    );
    cli('schedule', 'trigger', '--schedule-id', job.id);
    const execution = (await waitFor(
      async () => (await h.client.schedule.getHandle(job.id).describe()).info.recentActions[0]?.action.workflow.workflowId,
      (e) => e !== undefined,
      { what: 'the triggered execution' },
    ))!;
    const closed = await waitFor(
      () => h.client.workflow.getHandle(execution).describe(),
      (d) => d.status.name !== 'RUNNING',
      { what: 'the execution to end', timeoutMs: 15_000 },
    ).catch(async (err: unknown) => {
      const history = await h.client.workflow.getHandle(execution).fetchHistory();
      const failures = (history.events ?? []).flatMap((e) =>
        e.workflowTaskFailedEventAttributes ? [e.workflowTaskFailedEventAttributes.failure?.message] : [],
      );
      // What the API makes of it: a stop of the periodic job does not end it either.
      const stop = (await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status;
      await new Promise((r) => setTimeout(r, 3_000));
      const after = (await h.client.workflow.getHandle(execution).describe()).status.name;
      const get = (await h.request('GET', `/api/v1/jobs/${execution}`)).status;
      throw new Error(
        `${String(err).slice(0, 120)}…; workflow task failures: ${JSON.stringify(failures.slice(0, 1))}; GET of the execution: ${get}; after the job's stop (${stop}) it is ${after}`,
      );
    });
    assert.equal(closed.status.name, 'COMPLETED');
    assert.equal((await h.stats(execution)).status, 'Success');
    // An execution of its periodic job: listed under it, and its stats say so.
    const listed = await waitFor(
      () => executions(job.id),
      (r) => r.jobs.some((j) => j.id === execution),
      { what: 'the execution listed under its periodic job' },
    );
    const shown = listed.jobs.find((j) => j.id === execution)!;
    assert.equal(shown.kind, 'Scheduled');
    assert.equal(shown.upstream_job_id, job.id);
  });

  it('GET shows cron_spec as submitted while the schedule keeps its times, for crons of every shape', async () => {
    const crons = [
      '*/2 * * * * *',
      '15 */5 * * * *',
      '0 0 0 13 * 5',
      '0 0 12 1,15 * MON',
      '0 0 6 * JAN-MAR SUN',
      '0 0 0 * * 7',
      '30 10/20 * * * *',
      '0 */15 * * *',
      '0 0 * * */2',
      '0 0 0 ? * MON',
      'CRON_TZ=Asia/Tokyo 0 30 9 * * 1-5',
      '@weekly',
      '@every 90s',
    ];
    for (const cron of crons) {
      const job = await periodic(cron, { suspend: true, run_on_startup: cron === '@weekly' });
      assert.equal((await h.stats(job.id)).cron_spec, cron);
    }
  });

  it('GET and the list show the times and parameters an operator replaced with `temporal schedule update`', async () => {
    const job = await periodic('@yearly', { suspend: true }, { duration_ms: 1 });
    assert.equal(job.cron_spec, '@yearly');
    updateWithCli(job.id, '*/10 * * * *', '--paused', '--input', JSON.stringify({ name: 'NOOP', parameters: { duration_ms: 2 } }));
    // Temporal keeps times as calendars: shown as Harbor writes a cron, seconds first.
    const shown = await h.stats(job.id);
    assert.equal(shown.cron_spec, '0 */10 * * * *');
    assert.deepEqual(shown.parameters, { duration_ms: 2 });
    // A list reads visibility, which follows a moment later.
    const listedCron = async () =>
      ((await (await h.request('GET', '/api/v1/jobs?kind=Periodic&name=NOOP&page_size=100')).json()) as { job: JobStats }[])
        .map((i) => i.job)
        .find((j) => j.id === job.id)?.cron_spec;
    await waitFor(listedCron, (cron) => cron === '0 */10 * * * *', { what: 'the list row with the new times' });
  });

  it('a CRON_TZ= cron an operator moved to another zone shows the times without the old zone', async () => {
    const job = await periodic('CRON_TZ=Asia/Tokyo 0 30 9 * * 1-5', { suspend: true });
    assert.equal(job.cron_spec, 'CRON_TZ=Asia/Tokyo 0 30 9 * * 1-5');
    // The same wall-clock times, another zone.
    updateWithCli(job.id, '30 9 * * 1-5', '--time-zone', 'Europe/Berlin', '--paused');
    const shown = await h.stats(job.id);
    assert.equal(shown.options?.timezone, 'Europe/Berlin');
    assert.equal(shown.cron_spec, '0 30 9 * * 1-5');
  });

  it('a run_on_startup job whose times an operator restated as they were (to give a new input) shows its cron as submitted', async () => {
    const job = await periodic('@weekly', { suspend: true, run_on_startup: true }, { duration_ms: 1 });
    updateWithCli(job.id, '0 0 * * 0', '--paused', '--input', JSON.stringify({ name: 'NOOP', parameters: { duration_ms: 2 } }));
    const shown = await h.stats(job.id);
    assert.deepEqual(shown.parameters, { duration_ms: 2 }, 'the update landed');
    assert.equal(shown.cron_spec, '@weekly');
  });

  it('GET shows a periodic job’s parameters as its list row and a one-off job do: only the secret hidden, sealed or not', async () => {
    const parameters = { registry: 'https://admin:s3cr3t-pw@reg.example.com/v2', config: '{"password":"p4ss","user":"robot"}' };
    assert.ok(h.config.job.sealing_keys.length > 0, 'the harness seals secrets');
    const job = await h.submit({ name: 'SCHEDULER', parameters, metadata: { kind: 'Periodic', cron_spec: '@yearly', suspend: true } });
    created.push(job.id);
    const oneOff = await h.submit({ name: 'SCHEDULER', parameters, metadata: { kind: 'Generic' } });
    assert.equal(oneOff.parameters?.registry, 'https://admin:[redacted]@reg.example.com/v2');
    const listed = (
      (await (await h.request('GET', '/api/v1/jobs?kind=Periodic&name=SCHEDULER&page_size=100')).json()) as { job: JobStats }[]
    )
      .map((i) => i.job)
      .find((j) => j.id === job.id);
    assert.deepEqual(listed?.parameters, oneOff.parameters, 'the list');
    assert.deepEqual((await h.stats(job.id)).parameters, oneOff.parameters, 'GET');
    assert.deepEqual(job.parameters, oneOff.parameters, 'the answer to the submit');
  });

  it('a pause through the API keeps the search attributes an operator gave the schedule', async () => {
    const OperatorTeam = defineSearchAttributeKey('OperatorTeam', SearchAttributeType.KEYWORD);
    await h.client.connection.operatorService
      .addSearchAttributes({ namespace: h.config.temporal.namespace, searchAttributes: { [OperatorTeam.name]: 2 } })
      .catch((err: unknown) => {
        if (!/already exists/i.test(String(err))) throw err;
      });
    const job = await periodic('@yearly');
    const handle = h.client.schedule.getHandle(job.id);
    // The operator tags the schedule (as `temporal schedule update --search-attribute` would),
    // once the server's namespace cache knows the new attribute.
    const tag = () =>
      handle
        .update((s) => ({
          ...s,
          typedSearchAttributes: [...(s.typedSearchAttributes?.getAll() ?? []), { key: OperatorTeam, value: 'storage' }],
        }))
        .then(
          () => true,
          (err: unknown) => {
            if (/no mapping defined/.test(String((err as Error).cause ?? err))) return false;
            throw err;
          },
        );
    await waitFor(tag, (done) => done, { what: 'the operator attribute registered', timeoutMs: 30_000, intervalMs: 500 });
    // The schedule applies an update in its own next task.
    await waitFor(
      () => handle.describe(),
      (d) => d.typedSearchAttributes?.get(OperatorTeam) === 'storage',
      { what: 'the schedule tagged' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'pause' })).status, 204);
    // The pause's update applied (its note with it), then its search attributes are read.
    const paused = await waitFor(
      () => handle.describe(),
      (d) => d.state.paused && d.state.note === 'paused via the jobservice API',
      { what: 'the pause applied' },
    );
    assert.equal(paused.typedSearchAttributes?.get(JobStatusKey), 'Scheduled');
    assert.equal(paused.typedSearchAttributes?.get(OperatorTeam), 'storage', "the operator's attribute is kept");
  });
});
