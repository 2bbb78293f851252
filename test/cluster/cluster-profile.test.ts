import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startClusterOnFreePorts, startClusterProfile, waitForApis, type ClusterProfile } from '../../src/cluster/cluster-profile.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { waitFor } from '../helpers/wait-for.js';
import { startRawReceiver } from '../helpers/raw-receiver.js';
import { Client, Connection } from '@temporalio/client';

const SECRET = 'cluster-test-secret-0123456789';
const SEALED_TOKEN = 'cluster-sealed-token-5f4e3d2c';

/**
 * The scale-out profile as `npm run cluster` starts it: PostgreSQL, Temporal's four services as
 * processes of their own, two workers and two APIs. The short subset inside `npm test`; the job
 * and periodic test files run against its Temporal with `npm run test:cluster`.
 */
describe('the cluster profile: PostgreSQL, four Temporal services, two workers, two APIs', () => {
  // A deep directory, as a checkout can be: PostgreSQL's socket path (107 bytes at most) is not in it.
  const dir = mkdtempSync(join(tmpdir(), `jobservice-cluster-${'deep'.repeat(16)}-`));
  // PostgreSQL runs as its own user, which must reach its data directory inside this one.
  chmodSync(dir, 0o755);
  let profile: ClusterProfile;
  const lines: string[] = [];
  before(async () => {
    // An operator's shell set for another Temporal (docs/operators.md exports these): the profile's
    // processes use the profile's own.
    const shell = { TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE, JOB_SERVICE_CONFIG: process.env.JOB_SERVICE_CONFIG };
    Object.assign(process.env, { TEMPORAL_NAMESPACE: 'harbor', JOB_SERVICE_CONFIG: join(dir, 'missing.yaml') });
    try {
      profile = await startClusterOnFreePorts({
        dir,
        workers: 2,
        apis: 2,
        coreSecret: SECRET,
        log: (line) => lines.push(line),
      });
    } finally {
      for (const [key, value] of Object.entries(shell)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
  after(async () => {
    await profile?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (api: number, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${profile.apiUrls[api]}/api/v1${path}`, {
      method,
      headers: { Authorization: `Harbor-Secret ${SECRET}`, 'Content-Type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, json: (await response.json().catch(() => undefined)) as unknown };
  };

  it('a job submitted through one API runs on a worker and reads the same through the other; both pools show', async () => {
    const submitted = await call(0, 'POST', '/jobs', {
      job: { name: 'DEMO', parameters: { image: 'demo-cluster', step_ms: 50, hold_ms: 50 }, metadata: { kind: 'Generic' } },
    });
    assert.equal(submitted.status, 202);
    const { id } = (submitted.json as { job: JobStats }).job;
    const done = await waitFor(
      async () => ((await call(1, 'GET', `/jobs/${id}`)).json as { job: JobStats }).job,
      (job) => job.status === 'Success' || job.status === 'Error',
      { timeoutMs: 60_000, what: 'the DEMO job to finish' },
    );
    assert.equal(done.status, 'Success');
    assert.equal(done.check_in, '100%');
    // Its log is the profile's, as everything the profile keeps, and both APIs serve it.
    assert.ok(existsSync(join(dir, 'job_logs', `${id}.log`)), `the job's log under ${dir}/job_logs`);
    assert.equal(
      (await fetch(`${profile.apiUrls[1]}/api/v1/jobs/${id}/log`, { headers: { Authorization: `Harbor-Secret ${SECRET}` } })).status,
      200,
    );
    const listed = await waitFor(
      async () => (await call(1, 'GET', `/jobs?name=DEMO&status=Success`)).json as { job: JobStats }[],
      (rows) => rows.some((r) => r.job.id === id),
      { timeoutMs: 30_000, what: 'the job in the Success list (visibility on PostgreSQL)' },
    );
    assert.ok(listed.length >= 1);
    // Matching lists a worker's pollers per task-queue partition: the second pool shows once it has polled the partition described.
    const healthy = await waitFor(
      async () => ((await call(0, 'GET', '/stats')).json as { worker_pools: { status: string }[] }).worker_pools,
      (pools) => pools.filter((p) => p.status === 'Healthy').length >= 2,
      { timeoutMs: 30_000, what: 'both worker pools Healthy in /stats' },
    );
    assert.equal(healthy.filter((p) => p.status === 'Healthy').length, 2);
  });

  it('a periodic job fires on the cluster’s schedules and stops for good', async () => {
    const submitted = await call(1, 'POST', '/jobs', {
      job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: '*/2 * * * * *' } },
    });
    assert.equal(submitted.status, 202);
    const { id } = (submitted.json as { job: JobStats }).job;
    await waitFor(
      async () => (await call(0, 'GET', `/jobs/${id}/executions`)).json as { job: JobStats }[],
      (rows) => rows.some((r) => r.job.status === 'Success'),
      { timeoutMs: 60_000, what: 'a successful execution' },
    );
    assert.equal((await call(0, 'POST', `/jobs/${id}`, { action: 'stop' })).status, 204);
    const stopped = ((await call(1, 'GET', `/jobs/${id}`)).json as { job: JobStats }).job;
    assert.equal(stopped.status, 'Stopped');
  });

  it("seals a job's secrets with one key the profile keeps: Temporal's history never holds them, and any worker opens them", async () => {
    const receiver = await startRawReceiver();
    const connection = await Connection.connect({ address: profile.address });
    try {
      const submitted = await call(0, 'POST', '/jobs', {
        job: {
          name: 'WEBHOOK',
          parameters: { address: receiver.url('sealed'), payload: '{"type":"PUSH_ARTIFACT"}', auth_header: `Bearer ${SEALED_TOKEN}` },
          metadata: { kind: 'Generic' },
        },
      });
      assert.equal(submitted.status, 202, JSON.stringify(submitted.json));
      const { id } = (submitted.json as { job: JobStats }).job;
      const done = await waitFor(
        async () => ((await call(1, 'GET', `/jobs/${id}`)).json as { job: JobStats }).job,
        (job) => job.status === 'Success' || job.status === 'Error',
        { timeoutMs: 60_000, what: 'the WEBHOOK job to finish' },
      );
      assert.equal(done.status, 'Success', done.last_error);
      assert.equal(receiver.requests('sealed')[0]?.headers.authorization, `Bearer ${SEALED_TOKEN}`, 'the worker opened the sealed header');
      const history = JSON.stringify(await new Client({ connection }).workflow.getHandle(id).fetchHistory(), (key, v: unknown) =>
        key === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v,
      );
      assert.match(history, /sealed:v1:/);
      assert.equal(history.includes(SEALED_TOKEN), false, 'the token shows in the history');
      assert.equal(statSync(join(dir, 'sealing-key')).mode & 0o777, 0o600);
    } finally {
      await connection.close();
      await receiver.close();
    }
  });

  it('a second profile started on the same directory and ports is refused and leaves the first one running', async () => {
    const frontendPort = Number(profile.address.split(':').at(-1));
    await assert.rejects(
      startClusterProfile({
        dir,
        workers: 1,
        apis: 2,
        apiPort: Number(new URL(profile.apiUrls[0]!).port),
        frontendPort,
        postgresPort: profile.postgres.port,
        coreSecret: SECRET,
        log: () => undefined,
      }),
      /is taken: is another cluster running/,
    );
    // The first profile's PostgreSQL (and so its Temporal) still serves.
    const submitted = await call(0, 'POST', '/jobs', { job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } } });
    assert.equal(submitted.status, 202);
    const { id } = (submitted.json as { job: JobStats }).job;
    const done = await waitFor(
      async () => ((await call(1, 'GET', `/jobs/${id}`)).json as { job?: JobStats }).job,
      (job) => job?.status === 'Success',
      { timeoutMs: 60_000, what: 'a job on the first profile after the refused second one' },
    );
    assert.equal(done?.status, 'Success');
  });

  it('says so when one of its processes dies, and the chaos suite can start it again', async () => {
    const api = profile.apps.find((a) => a.role === 'api' && a.index === 1)!;
    api.child.kill('SIGKILL');
    await waitFor(
      async () => lines,
      (l) => l.some((line) => /^api 1 exited \(SIGKILL\)/.test(line)),
      { what: 'the profile to log the dead API' },
    );
    profile.restartApp(api);
    await waitForApis([profile.apiUrls[1]!], SECRET, () => undefined, 60_000);
  });
});
