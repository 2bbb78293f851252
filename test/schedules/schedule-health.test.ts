import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../src/process/free-port.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { deleteSchedules } from '../helpers/schedules.js';
import { waitFor } from '../helpers/wait-for.js';
import type { ChildProcess } from 'node:child_process';
import { exited, spawnWorkerProcess } from '../helpers/worker-process.js';

/** Two worker processes (the harness's and one of its own), each serving its metrics. */
describe('schedule health: failures in a row, pause_after_failures', () => {
  let h: Harness;
  let second: ChildProcess;
  const metricsUrls: string[] = [];
  const created: string[] = [];
  before(async () => {
    const [port, otherPort] = [await freePort(), await freePort()];
    h = await createHarness({ config: testConfig({ metric: { enabled: true, port, path: '/metrics' } }) });
    second = spawnWorkerProcess(h.config, h.logDir, { metric: { enabled: true, port: otherPort, path: '/metrics' } });
    metricsUrls.push(`http://127.0.0.1:${port}/metrics`, `http://127.0.0.1:${otherPort}/metrics`);
  });
  after(async () => {
    second.kill('SIGTERM');
    await exited(second);
    await deleteSchedules(h.client, created);
    await h.close();
  });
  /** A counter summed over both workers (a worker not up yet counts nothing). */
  const counted = async (series: string) => {
    let sum = 0;
    for (const url of metricsUrls) {
      const text = await fetch(url).then(
        (r) => r.text(),
        () => '',
      );
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      if (line) sum += Number(line.slice(series.length + 1));
    }
    return sum;
  };

  const periodic = async (name: string, metadata: Record<string, unknown> = {}, parameters: Record<string, unknown> = {}) => {
    const job = await h.submit({ name, parameters, metadata: { kind: 'Periodic', cron_spec: '@yearly', ...metadata } });
    created.push(job.id);
    return job;
  };
  /** Fires the periodic job now and waits for that execution to end. */
  const fire = async (id: string, seen: number) => {
    assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'trigger' })).status, 204);
    const executions = await waitFor(
      async () => {
        const response = await h.request('GET', `/api/v1/jobs/${id}/executions?page_size=100`);
        return ((await response.json()) as { job: JobStats }[]).map((r) => r.job);
      },
      (list) => list.length === seen + 1 && list.every((e) => ['Error', 'Success', 'Stopped'].includes(e.status)),
      { timeoutMs: 30_000, what: `execution ${seen + 1} of ${id} to end` },
    );
    return executions;
  };

  it('counts failed executions in a row and pauses the schedule at the limit, saying why', async () => {
    // A job both workers know (the second runs the default registry); it fails after its retries.
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-health', step_ms: 0, hold_ms: 0, fail: true },
      metadata: { kind: 'Periodic', cron_spec: '@yearly', pause_after_failures: 2 },
    });
    created.push(job.id);
    assert.equal(job.options?.pause_after_failures, 2);
    await fire(job.id, 0);
    const afterOne = await waitFor(
      () => h.stats(job.id),
      (s) => s.consecutive_failures === 1,
      { what: 'one failure counted' },
    );
    assert.equal(afterOne.paused, false, 'one failure is under the limit');
    await fire(job.id, 1);
    // Visibility lists the second failed execution a moment after it closed.
    const paused = await waitFor(
      () => h.stats(job.id),
      (s) => s.paused === true && s.consecutive_failures === 2,
      { what: 'the schedule paused after two failures, both counted' },
    );
    assert.equal(paused.consecutive_failures, 2);
    assert.match(
      paused.paused_note ?? '',
      /paused after 2 failed executions in a row \(pause_after_failures\); last [0-9a-f]{24}@\d+: demo job failed as asked/,
    );
    assert.deepEqual(paused.next_run_times, []);
    // Temporal holds the note: what an operator sees in `temporal schedule describe`.
    const described = await h.client.schedule.getHandle(job.id).describe();
    assert.equal(described.state.paused, true);
    assert.match(described.state.note ?? '', /pause_after_failures/);
    assert.equal(await counted('harbor_jobservice_schedule_paused_for_failures_total{type="DEMO"}'), 1);
    // Resumed by the operator, it runs on its cron again.
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'resume' })).status, 204);
    assert.equal((await h.stats(job.id)).paused, false);
    // And gets its pause_after_failures again: one more failure does not pause it, two do.
    await fire(job.id, 2);
    const resumedOnce = await waitFor(
      () => h.stats(job.id),
      (s) => s.consecutive_failures === 3,
      { what: 'the third failure counted in the streak GET shows' },
    );
    assert.equal(resumedOnce.paused, false, 'one failure after a resume is under the limit');
    await fire(job.id, 3);
    const pausedAgain = await waitFor(
      () => h.stats(job.id),
      (s) => s.paused === true,
      { what: 'the schedule paused again after two failures since the resume' },
    );
    assert.match(pausedAgain.paused_note ?? '', /paused after 2 failed executions in a row/);
  });

  it('a failed_jobs_history_limit under pause_after_failures keeps enough failed executions to reach it', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-health-limit', step_ms: 0, hold_ms: 0, fail: true },
      metadata: { kind: 'Periodic', cron_spec: '@yearly', pause_after_failures: 3, failed_jobs_history_limit: 1 },
    });
    created.push(job.id);
    for (const streak of [1, 2]) {
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' })).status, 204);
      const stats = await waitFor(
        () => h.stats(job.id),
        (s) => s.consecutive_failures === streak,
        { timeoutMs: 30_000, what: `${streak} failure(s) in a row counted` },
      );
      assert.equal(stats.paused, false);
    }
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' })).status, 204);
    const paused = await waitFor(
      () => h.stats(job.id),
      (s) => s.paused === true,
      { timeoutMs: 30_000, what: 'the schedule paused at the third failure in a row' },
    );
    assert.match(paused.paused_note ?? '', /paused after 3 failed executions in a row/);
    // The limit still prunes: no more failed executions are kept than the streak needs.
    const executions = (await (await h.request('GET', `/api/v1/jobs/${job.id}/executions?page_size=100`)).json()) as unknown[];
    assert.ok(executions.length <= 3, `${executions.length} executions kept`);
  });

  it('every failure counts, a job that succeeds counts none, and without the option nothing is paused', async () => {
    const job = await periodic('DEMO', {}, { image: 'demo-streak', step_ms: 0, hold_ms: 0, fail: true });
    await fire(job.id, 0);
    await fire(job.id, 1);
    await fire(job.id, 2);
    const stats = await waitFor(
      () => h.stats(job.id),
      (s) => s.consecutive_failures === 3,
      { what: 'three failures counted' },
    );
    assert.equal(stats.paused, false);
    const ok = await periodic('NOOP');
    await fire(ok.id, 0);
    assert.equal((await h.stats(ok.id)).consecutive_failures, 0);
  });

  it('refuses a pause_after_failures that is not a positive whole number, or on a job that is not periodic', async () => {
    for (const metadata of [
      { kind: 'Periodic', cron_spec: '@daily', pause_after_failures: 0 },
      { kind: 'Periodic', cron_spec: '@daily', pause_after_failures: 1.5 },
      { kind: 'Periodic', cron_spec: '@daily', pause_after_failures: '3' },
      { kind: 'Generic', pause_after_failures: 3 },
    ]) {
      const response = await h.request('POST', '/api/v1/jobs', { job: { name: 'NOOP', parameters: {}, metadata } });
      assert.equal(response.status, 400, JSON.stringify(metadata));
      assert.match(((await response.json()) as { description: string }).description, /pause_after_failures/);
    }
  });
});
