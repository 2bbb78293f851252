import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveApi } from '../../src/api/serve-app.js';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, TEST_SECRET, type Harness } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { WorkflowNotFoundError } from '@temporalio/client';
import { uniqueJobId } from '../../src/api/unique-job-id.js';
import { periodicStatusClause } from '../../src/api/periodic-list.js';
import { JobStatus } from '../../src/shared/job-model.js';
import { connectClient } from '../../src/temporal/connect.js';
import { temporalTarget } from '../../src/temporal/connection-options.js';
import { deleteSchedules } from '../helpers/schedules.js';
import { startProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait-for.js';

describe('an API that closes (SIGTERM) with submits in flight', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ worker: false });
  });
  after(async () => {
    await h.close();
  });

  it('answers every submit whose job it started: none is created behind a cut connection (its caller would submit again)', async () => {
    const api = await serveApi({ ...h.config, port: await freePort() }, h.client, testRegistry());
    // Unique jobs: each submit's job id is known, answered or not, and read with describe (no visibility lag).
    const parameters = (i: number) => ({ image: `demo-shutdown-${i}` });
    const post = (i: number) =>
      fetch(`${api.url}/api/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Harbor-Secret ${TEST_SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify({ job: { name: 'DEMO', parameters: parameters(i), metadata: { kind: 'Generic', unique: true } } }),
      }).then(
        (r) => r.status,
        () => 0,
      );
    assert.equal(await post(-1), 202);
    let firstAnswered!: () => void;
    const first = new Promise<void>((r) => (firstAnswered = r));
    const answers = Array.from({ length: 40 }, (_, i) => post(i).finally(() => firstAnswered()));
    // Closed as start.ts and api/main.ts close it on SIGTERM, once the first of them is answered.
    await first;
    await api.close();
    const statuses = await Promise.all(answers);
    const exists = (i: number) =>
      h.client.workflow
        .getHandle(uniqueJobId('DEMO', parameters(i)))
        .describe()
        .then(
          () => true,
          (err: unknown) => {
            if (err instanceof WorkflowNotFoundError) return false;
            throw err;
          },
        );
    const created = await Promise.all(statuses.map((_, i) => exists(i)));
    const behindCut = statuses.flatMap((status, i) => (created[i] && status !== 202 ? [`#${i}: ${status}`] : []));
    assert.deepEqual(behindCut, [], 'jobs started for submits that got no 202');
    assert.ok(statuses.filter((s) => s === 202).length > 1, `statuses: ${statuses.join(' ')}`);
  });

  it('ends the work a stop left going before it lets its connection close: a call of the sweep that Temporal cut is retried on the open connection, never after its close', async () => {
    const proxy = await startProxy(h.config.temporal.address!);
    const client = await connectClient(temporalTarget(h.config, proxy.address));
    const api = await serveApi({ ...h.config, port: await freePort() }, client, testRegistry());
    await api.policiesRefreshed;
    let jobId: string | undefined;
    const uncaught: string[] = [];
    const onUncaught = (err: Error) => uncaught.push(err.message);
    process.on('uncaughtException', onUncaught);
    try {
      const call = (method: string, path: string, body: unknown) =>
        fetch(`${api.url}${path}`, {
          method,
          headers: { authorization: `Harbor-Secret ${TEST_SECRET}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const submitted = await call('POST', '/api/v1/jobs', {
        job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: '@yearly' } },
      });
      assert.equal(submitted.status, 202);
      const { job } = (await submitted.json()) as { job: { id: string } };
      jobId = job.id;
      // The sweep of stopped jobs, which a stop starts and does not wait for, lists them first.
      proxy.blackholeOn = periodicStatusClause(JobStatus.Stopped);
      const stopped = call('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' });
      await waitFor(
        async () => proxy.mode,
        (mode) => mode === 'blackhole',
        { what: "the sweep's listing to go out" },
      );
      // Temporal drops the connection: every call on it, the sweep's listing too, is retried after
      // a back-off (10 attempts, ~17 s in all), and fails again while Temporal is down.
      proxy.blackholeOn = undefined;
      proxy.mode = 'down';
      // SIGTERM meanwhile. The close cuts the stop's request after its grace (5 s); then Temporal is back.
      const closed = api.close();
      await stopped.catch(() => undefined);
      proxy.mode = 'pass';
      await closed;
      await client.connection.close();
      // Past the back-off of a retry still pending at the close (a few hundred ms at this attempt),
      // with room for a loaded machine.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      assert.deepEqual(uncaught, [], 'a call of the API touched its connection after the close');
    } finally {
      process.off('uncaughtException', onUncaught);
      await proxy.close();
      if (jobId) await deleteSchedules(h.client, [jobId]);
    }
  });
});

describe('an API that closes with a log follow going on', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  it('ends the follow and its reads of the job before its close settles: none is retried after the connection closed', async () => {
    const proxy = await startProxy(h.config.temporal.address!);
    const client = await connectClient(temporalTarget(h.config, proxy.address));
    const api = await serveApi({ ...h.config, port: await freePort() }, client, testRegistry());
    await api.policiesRefreshed;
    const uncaught: string[] = [];
    const onUncaught = (err: Error) => uncaught.push(err.message);
    process.on('uncaughtException', onUncaught);
    try {
      const job = await h.submit({ name: 'TEST_OVERRUN', parameters: { hold_ms: 60_000 }, metadata: { kind: 'Generic' } });
      await h.waitForStatus(job.id, ['Running']);
      const follow = await fetch(`${api.url}/api/v1/jobs/${job.id}/log?follow=true`, {
        headers: { authorization: `Harbor-Secret ${TEST_SECRET}` },
      });
      assert.equal(follow.status, 200);
      // Read on until the stream ends (the close ends it, or cuts it).
      const reader = follow.body!.getReader();
      const drained = (async () => {
        for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return;
      })();
      // The follow asks Temporal now and then whether its job has ended: the next ask hangs there.
      proxy.blackholeOn = job.id;
      await waitFor(
        async () => proxy.mode,
        (mode) => mode === 'blackhole',
        { what: "the follow's read of its job to go out" },
      );
      // Temporal drops the connection (the read is retried after a back-off), and SIGTERM meanwhile,
      // as api/main.ts closes: the API, then at once its connection.
      proxy.blackholeOn = undefined;
      proxy.mode = 'down';
      const closed = api.close();
      await closed;
      proxy.mode = 'pass';
      await client.connection.close();
      await drained;
      // Past the back-off of a retry still pending at the close, with room for a loaded machine.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      assert.deepEqual(uncaught, [], 'a read of the follow touched its connection after the close');
    } finally {
      process.off('uncaughtException', onUncaught);
      await proxy.close();
    }
  });
});
