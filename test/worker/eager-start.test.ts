import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { buildApp } from '../../src/api/serve-app.js';
import { createServiceLogger } from '../../src/logs/service-logger.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { connectNative } from '../../src/temporal/connect.js';
import { temporalTarget } from '../../src/temporal/connection-options.js';
import { registerSearchAttributes } from '../../src/temporal/register-search-attributes.js';
import { startWorker, type RunningWorker } from '../../src/worker/run-worker.js';
import { TEST_SECRET, testConfig } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';

/** As `npm start` wires it: API and worker in one process on one native connection, submits asking for eager starts. */
describe('eager start where the API and a worker share a connection', () => {
  const config = testConfig();
  let connection: NativeConnection;
  let client: Client;
  let worker: RunningWorker;
  let app: ReturnType<typeof buildApp>;
  before(async () => {
    const target = temporalTarget(config);
    connection = await connectNative(target);
    client = new Client({ connection, namespace: target.namespace });
    await registerSearchAttributes(client);
    const registry = testRegistry();
    worker = await startWorker(config, target, client, registry, createServiceLogger(config.loggers, 'eager'), connection);
    app = buildApp(config, client, registry, { eagerStart: true });
  });
  after(async () => {
    await worker.shutdown();
    await connection.close();
  });

  const submit = async (job: Record<string, unknown>) => {
    const response = await app.request('/api/v1/jobs', {
      method: 'POST',
      headers: { authorization: `Harbor-Secret ${TEST_SECRET}`, 'content-type': 'application/json' },
      body: JSON.stringify({ job }),
    });
    assert.equal(response.status, 202);
    return ((await response.json()) as { job: JobStats }).job;
  };
  const stats = async (id: string) =>
    (
      (await (await app.request(`/api/v1/jobs/${id}`, { headers: { authorization: `Harbor-Secret ${TEST_SECRET}` } })).json()) as {
        job: JobStats;
      }
    ).job;

  it('hands the first workflow task straight to this worker', async () => {
    // A NOOP that waits is an ordinary run (a short one would end within its first task): later tasks come through matching.
    const job = await submit({ name: 'NOOP', parameters: { duration_ms: 50 }, metadata: { kind: 'Generic' } });
    assert.equal(
      (
        await waitFor(
          () => stats(job.id),
          (s) => s.status === 'Success',
        )
      ).status,
      'Success',
    );
    // An eager first task is started within the start request, by the caller: its WorkflowTaskStarted
    // carries the client's identity, where a task dispatched by matching carries the polling worker's.
    const events = (await client.workflow.getHandle(job.id).fetchHistory()).events ?? [];
    const firstStarted = events.find((e) => e.workflowTaskStartedEventAttributes);
    assert.equal(firstStarted?.workflowTaskStartedEventAttributes?.identity, client.options.identity);
    const later = events.filter((e) => e.workflowTaskStartedEventAttributes).slice(1);
    assert.ok(later.length > 0 && later.every((e) => e.workflowTaskStartedEventAttributes?.identity?.startsWith('jobservice/')));
  });

  it('falls back to ordinary dispatch when this process has no worker slot to take it, and the job still runs', async () => {
    // No worker on the connection (it is restarting, or every slot is busy): the start is not eager.
    await worker.shutdown();
    const job = await submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
    assert.equal((await stats(job.id)).status, 'Pending');
    const target = temporalTarget(config);
    worker = await startWorker(config, target, client, testRegistry(), createServiceLogger(config.loggers, 'eager'), connection);
    const done = await waitFor(
      () => stats(job.id),
      (s) => s.status === 'Success' || s.status === 'Error',
    );
    assert.equal(done.status, 'Success');
    const events = (await client.workflow.getHandle(job.id).fetchHistory()).events ?? [];
    const firstStarted = events.find((e) => e.workflowTaskStartedEventAttributes);
    assert.ok(firstStarted?.workflowTaskStartedEventAttributes?.identity?.startsWith('jobservice/'), 'dispatched to a polling worker');
  });

  it("answers 400 with the server's reason when the server refuses a periodic job's time zone (the native connection's error form)", async () => {
    // ICU takes this alias in any case, Go on the server does not: only the server can refuse it.
    const response = await app.request('/api/v1/jobs', {
      method: 'POST',
      headers: { authorization: `Harbor-Secret ${TEST_SECRET}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: '@daily', timezone: 'us/pacific' } },
      }),
    });
    const text = await response.text();
    assert.equal(response.status, 400, text);
    const body = JSON.parse(text) as { code: number; err: string; description: string };
    assert.equal(body.code, 10013);
    assert.match(body.description, /unknown time zone us\/pacific/);
  });
});
