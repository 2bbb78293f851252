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

/**
 * An API served on a client that reaches Temporal through a proxy the test switches, with every
 * uncaught exception recorded: `dropWhenSent` lets the call carrying `marker` go out, then drops
 * the connection (that call is retried after a back-off, and fails again while it is down);
 * `uncaughtAfterClose` closes the connection as api/main.ts does right after the API and reads
 * what was thrown past a retry's back-off (a few hundred ms at these attempts, with room for a
 * loaded machine).
 */
async function servedThroughProxy(h: Harness) {
  const proxy = await startProxy(h.config.temporal.address!);
  const client = await connectClient(temporalTarget(h.config, proxy.address));
  const api = await serveApi({ ...h.config, port: await freePort() }, client, testRegistry());
  await api.policiesRefreshed;
  const uncaught: string[] = [];
  const onUncaught = (err: Error) => uncaught.push(err.message);
  process.on('uncaughtException', onUncaught);
  return {
    api,
    proxy,
    async dropWhenSent(marker: string, what: string, send: () => void = () => undefined): Promise<void> {
      proxy.blackholeOn = marker;
      send();
      await waitFor(
        async () => proxy.mode,
        (mode) => mode === 'blackhole',
        { what },
      );
      proxy.blackholeOn = undefined;
      proxy.mode = 'down';
    },
    async uncaughtAfterClose(): Promise<string[]> {
      await client.connection.close();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      return uncaught;
    },
    async dispose(): Promise<void> {
      process.off('uncaughtException', onUncaught);
      await proxy.close();
    },
  };
}

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
    const served = await servedThroughProxy(h);
    let jobId: string | undefined;
    try {
      const call = (method: string, path: string, body: unknown) =>
        fetch(`${served.api.url}${path}`, {
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
      let stopped: Promise<unknown> = Promise.resolve();
      await served.dropWhenSent(periodicStatusClause(JobStatus.Stopped), "the sweep's listing to go out", () => {
        stopped = call('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' }).catch(() => undefined);
      });
      // SIGTERM meanwhile. The close cuts the stop's request after its grace (5 s); then Temporal is back.
      const closed = served.api.close();
      await stopped;
      served.proxy.mode = 'pass';
      await closed;
      assert.deepEqual(await served.uncaughtAfterClose(), [], 'a call of the API touched its connection after the close');
    } finally {
      await served.dispose();
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
    const served = await servedThroughProxy(h);
    try {
      const job = await h.submit({ name: 'TEST_OVERRUN', parameters: { hold_ms: 60_000 }, metadata: { kind: 'Generic' } });
      await h.waitForStatus(job.id, ['Running']);
      const follow = await fetch(`${served.api.url}/api/v1/jobs/${job.id}/log?follow=true`, {
        headers: { authorization: `Harbor-Secret ${TEST_SECRET}` },
      });
      assert.equal(follow.status, 200);
      // Read on until the stream ends (the close ends it, or cuts it).
      const reader = follow.body!.getReader();
      const drained = (async () => {
        for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return;
      })();
      // The follow asks Temporal now and then whether its job has ended: the next ask hangs there.
      await served.dropWhenSent(job.id, "the follow's read of its job to go out");
      // SIGTERM meanwhile, as api/main.ts closes: the API, then at once its connection.
      await served.api.close();
      served.proxy.mode = 'pass';
      const uncaught = await served.uncaughtAfterClose();
      await drained;
      assert.deepEqual(uncaught, [], 'a read of the follow touched its connection after the close');
    } finally {
      await served.dispose();
    }
  });
});
