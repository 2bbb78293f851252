import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { exited, spawnWorkerProcess } from '../helpers/worker-process.js';
import { running as processRuns } from '../../src/process/proc-stat.js';

describe('a worker killed with SIGKILL mid-job', () => {
  let h: Harness;
  const children: ChildProcess[] = [];
  before(async () => {
    h = await createHarness({ worker: false });
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await h.close();
  });

  it('loses nothing: after a new worker starts, the job finishes and its stats are intact', async () => {
    const first = spawnWorkerProcess(h.config, h.logDir);
    children.push(first);
    const submitted = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-crash', step_ms: 2000, hold_ms: 500 },
      metadata: { kind: 'Generic' },
    });
    const running = await waitFor(
      () => h.stats(submitted.id),
      (s) => s.status === 'Running' && s.check_in === '30%',
      {
        timeoutMs: 60_000,
        what: 'the job to run on the first worker',
      },
    );
    first.kill('SIGKILL');
    await exited(first);
    // With no worker, the job is still readable and still Running (nobody has said otherwise).
    assert.equal((await h.stats(submitted.id)).status, 'Running');

    children.push(spawnWorkerProcess(h.config, h.logDir));
    const done = await h.waitForStatus(submitted.id, ['Success'], 60_000);
    assert.equal(done.id, submitted.id);
    assert.equal(done.enqueue_time, submitted.enqueue_time);
    assert.equal(done.revision, running.revision);
    assert.equal(done.check_in, '100%');
    assert.deepEqual(done.parameters, submitted.parameters);
    assert.equal(done.fails, undefined, 'a lost worker is not a failure of the job');
    const log = readFileSync(join(h.logDir, `${submitted.id}.log`), 'utf8');
    assert.match(log, /attempt 1\)/);
    assert.match(log, /attempt 2\)/);
    assert.match(log, /run finished/);
  });

  /** A job running on a worker of its own, which is then killed; the other workers are gone first. */
  const runThenKill = async (image: string, beforeKill?: () => Promise<void>) => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    const first = spawnWorkerProcess(h.config, h.logDir);
    children.push(first);
    const job = await h.submit({ name: 'DEMO', parameters: { image, step_ms: 3000, hold_ms: 500 }, metadata: { kind: 'Generic' } });
    await waitFor(
      () => h.stats(job.id),
      (s) => s.status === 'Running' && s.check_in === '30%',
      { timeoutMs: 60_000, what: 'the job to run on the first worker' },
    );
    await beforeKill?.();
    first.kill('SIGKILL');
    await exited(first);
    return job;
  };

  it('a stop accepted while the run’s worker is dead: the run comes back only to end, the job’s code does not start again', async () => {
    const job = await runThenKill('demo-stopped-while-lost');
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    children.push(spawnWorkerProcess(h.config, h.logDir));
    await h.waitForStatus(job.id, ['Stopped'], 60_000);
    const handle = h.client.workflow.getHandle(job.id);
    await waitFor(
      () => handle.describe(),
      (d) => d.status.name === 'COMPLETED',
      { timeoutMs: 60_000, what: 'the job workflow to close once its run came back' },
    );
    const log = readFileSync(join(h.logDir, `${job.id}.log`), 'utf8');
    assert.doesNotMatch(log, /started \(revision \d+, attempt 2\)/, log);
    assert.match(log, /not started again: stop was given while the run's worker was lost/);
  });

  it('the sub jobs a run launched are not launched again when its worker dies and the run is retried', async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    const first = spawnWorkerProcess(h.config, h.logDir, {}, { testJobs: true });
    children.push(first);
    const parent = await h.submit({
      name: 'TEST_PARENT',
      parameters: { count: 2, child_step_ms: 0, hold_ms: 60_000 },
      metadata: { kind: 'Generic' },
    });
    await waitFor(
      () => h.stats(parent.id),
      (s) => s.check_in === 'launched 2',
      { timeoutMs: 60_000, what: 'the sub jobs launched' },
    );
    first.kill('SIGKILL');
    await exited(first);
    children.push(spawnWorkerProcess(h.config, h.logDir, {}, { testJobs: true }));
    // The retried run's code starts again and launches again (at least once, as documented).
    const launched = (log: string) => [...log.matchAll(/launched sub job DEMO ([0-9a-f]{24})/g)].map((m) => m[1]!);
    const log = await waitFor(
      async () => readFileSync(join(h.logDir, `${parent.id}.log`), 'utf8'),
      (text) => /attempt 2\)/.test(text) && launched(text).length >= 4,
      { timeoutMs: 60_000, what: 'the retried run to launch its sub jobs again' },
    );
    const ids = launched(log);
    assert.deepEqual(ids.slice(2, 4), ids.slice(0, 2), 'the retried run got back the sub jobs the lost attempt launched');
    assert.equal((await h.request('POST', `/api/v1/jobs/${parent.id}`, { action: 'stop' })).status, 204);
    const done = await h.waitForStatus(parent.id, ['Stopped', 'Success', 'Error'], 60_000);
    assert.deepEqual(done.sub_jobs, ids.slice(0, 2));
    assert.equal((await h.client.workflow.count(`UpstreamJobId = "${parent.id}"`)).count, 2, 'two child workflows, not four');
  });

  it('a Pending job stopped while the worker holding its workflow is dead never runs its code', async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    // One job slot: the second job waits Pending behind the first, its run scheduled.
    const first = spawnWorkerProcess(h.config, h.logDir, { worker_pool: { workers: 1 } });
    children.push(first);
    const demo = (image: string, step_ms: number) => ({
      name: 'DEMO',
      parameters: { image, step_ms, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    const busy = await h.submit(demo('demo-busy', 20_000));
    await waitFor(
      () => h.stats(busy.id),
      (s) => s.status === 'Running',
      { timeoutMs: 60_000, what: 'the first job running' },
    );
    const pending = await h.submit(demo('demo-pending', 500));
    await waitFor(
      async () => (await h.client.workflow.getHandle(pending.id).describe()).raw.pendingActivities?.length ?? 0,
      (n) => n > 0,
      { timeoutMs: 60_000, what: 'the second job’s run scheduled' },
    );
    assert.equal((await h.stats(pending.id)).status, 'Pending');
    first.kill('SIGKILL');
    await exited(first);
    assert.equal((await h.request('POST', `/api/v1/jobs/${pending.id}`, { action: 'stop' })).status, 204);
    children.push(spawnWorkerProcess(h.config, h.logDir));
    assert.equal((await h.waitForStatus(pending.id, ['Stopped', 'Success', 'Error'], 90_000)).status, 'Stopped');
    const log = readFileSync(join(h.logDir, `${pending.id}.log`), 'utf8');
    assert.doesNotMatch(log, /run of DEMO started/, log);
    assert.match(log, /not started: stop was given while the run waited for a worker/);
    assert.equal((await h.request('POST', `/api/v1/jobs/${busy.id}`, { action: 'stop' })).status, 204);
  });

  it('a type paused while its running job’s worker is dead: the job finishes, as running jobs of a paused type do', async () => {
    try {
      const job = await runThenKill('demo-paused-while-lost', async () => {
        assert.equal((await h.request('PUT', '/api/v1/queues/DEMO', { action: 'pause' })).status, 200);
      });
      children.push(spawnWorkerProcess(h.config, h.logDir));
      const done = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 60_000);
      assert.equal(done.status, 'Success');
      assert.match(readFileSync(join(h.logDir, `${job.id}.log`), 'utf8'), /attempt 2\)/);
    } finally {
      await h.request('PUT', '/api/v1/queues/DEMO', { action: 'resume' });
    }
  });

  it('a garbage collection’s registry process ends with its worker, so the job’s retry elsewhere never runs beside it', async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    // Stands in for `docker-registry garbage-collect`: says its pid, then collects for a long time, silently.
    const pidFile = join(h.logDir, 'gc.pid');
    const fake = join(h.logDir, 'fake-registry');
    writeFileSync(fake, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 600\n`);
    chmodSync(fake, 0o755);
    const worker = spawnWorkerProcess(h.config, h.logDir, { garbage_collection: { binary: fake, registry_config: 'unused.yml' } });
    children.push(worker);
    const job = await h.submit({ name: 'GARBAGE_COLLECTION', parameters: {}, metadata: { kind: 'Generic' } });
    const pid = Number(
      await waitFor(
        async () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : ''),
        (text) => /^\d+$/.test(text),
        { timeoutMs: 60_000, what: 'the collection to start' },
      ),
    );
    // A collector that has exited but waits to be reaped (a zombie, under a PID 1 that does not reap) is gone.
    const alive = () => processRuns(pid);
    try {
      assert.ok(alive());
      worker.kill('SIGKILL');
      await exited(worker);
      await waitFor(
        async () => alive(),
        (running) => !running,
        { timeoutMs: 10_000, what: 'the collection to end with its worker' },
      );
    } finally {
      if (alive()) process.kill(pid, 'SIGKILL');
      await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' });
    }
  });
});

describe('a job whose worker is lost before its Running report reached the workflow', () => {
  let h: Harness;
  const children: ChildProcess[] = [];
  before(async () => {
    // The Running report waits a minute: until then GET reads Running from the started run itself.
    h = await createHarness({ worker: false, config: testConfig({ job: { running_report_delay_ms: 60_000 } }) });
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await h.close();
  });

  it('still reads Running while its run waits for another worker: a status never goes back within a revision', async () => {
    const worker = spawnWorkerProcess(h.config, h.logDir);
    children.push(worker);
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-lost-before-report', step_ms: 60_000, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Running']);
    worker.kill('SIGKILL');
    await exited(worker);
    // Past its heartbeat timeout the run is scheduled again, for a worker that is not there yet.
    await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).describe()).raw.pendingActivities?.[0],
      (run) => run !== undefined && run.state === 1 && (run.attempt ?? 1) > 1,
      { timeoutMs: 60_000, what: 'the run to be scheduled again after its worker was lost' },
    );
    const stats = await h.stats(job.id);
    assert.equal(stats.status, 'Running', `a job that ran reads ${stats.status} once its worker is lost`);
    await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' });
  });
});
