import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uniqueJobId } from '../../src/api/job-gateway.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

describe('unique jobs', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig({ max_retrieve_size_mb: 0.0001 }) });
  });
  after(async () => {
    await h.close();
  });

  it('refuses a second unique job with the same name and parameters with 409 naming the first', async () => {
    const parameters = { image: 'demo-unique', step_ms: 1500, hold_ms: 0 };
    const first = await h.submit({ name: 'DEMO', parameters, metadata: { kind: 'Generic', unique: true } });
    assert.equal(first.unique, true);
    assert.equal(first.id, uniqueJobId('DEMO', parameters));
    // The same parameters in another key order are the same job.
    const reordered = { hold_ms: 0, step_ms: 1500, image: 'demo-unique' };
    const second = await h.request('POST', '/api/v1/jobs', {
      job: { name: 'DEMO', parameters: reordered, metadata: { kind: 'Generic', unique: true } },
    });
    assert.equal(second.status, 409);
    const body = (await second.json()) as { code: number; description: string; job_id?: string };
    assert.equal(body.code, 10012);
    assert.match(body.description, new RegExp(first.id));
    assert.equal(body.job_id, first.id, 'the active job is named in a field, not only in the text');
    // Other parameters, or a non-unique submit, are separate jobs.
    const other = await h.submit({
      name: 'DEMO',
      parameters: { ...parameters, image: 'demo-other' },
      metadata: { kind: 'Generic', unique: true },
    });
    assert.notEqual(other.id, first.id);
    const plain = await h.submit({ name: 'DEMO', parameters, metadata: { kind: 'Generic' } });
    assert.notEqual(plain.id, first.id);

    // Once the first has finished, the same unique job may run again under the same id.
    const done = await h.waitForStatus(first.id, ['Success']);
    const again = await waitFor(
      () => h.request('POST', '/api/v1/jobs', { job: { name: 'DEMO', parameters, metadata: { kind: 'Generic', unique: true } } }),
      (r) => r.status === 202,
      { what: 'the unique job to be accepted again' },
    );
    const rerun = ((await again.json()) as { job: JobStats }).job;
    assert.equal(rerun.id, first.id);
    assert.ok(rerun.revision > done.revision, `the rerun's revision ${rerun.revision} follows ${done.revision}`);
    await h.waitForStatus(first.id, ['Success']);
    await h.waitForStatus(other.id, ['Success']);
    await h.waitForStatus(plain.id, ['Success']);
  });

  it('a rerun within the same second gets a later revision, and the job stays one row in lists', async () => {
    const parameters = { duration_ms: 0 };
    const submit = () =>
      h.request('POST', '/api/v1/jobs', { job: { name: 'NOOP', parameters, metadata: { kind: 'Generic', unique: true } } });
    const first = ((await (await submit()).json()) as { job: JobStats }).job;
    const done = await h.waitForStatus(first.id, ['Success']);
    const again = await waitFor(submit, (r) => r.status === 202, { what: 'the unique NOOP to be accepted again' });
    const rerun = ((await again.json()) as { job: JobStats }).job;
    assert.equal(rerun.id, first.id);
    assert.ok(rerun.revision > done.revision, `the rerun's revision ${rerun.revision} follows ${done.revision}`);
    const second = await h.waitForStatus(first.id, ['Success']);
    assert.equal(second.revision, rerun.revision);
    const rows = await waitFor(
      async () =>
        ((await (await h.request('GET', '/api/v1/jobs?name=NOOP&page_size=100')).json()) as { job: JobStats }[])
          .map((r) => r.job)
          .filter((j) => j.id === first.id),
      (r) => r.length === 1 && r[0]!.revision === rerun.revision,
      { what: 'one row for the unique job once its first run is deleted' },
    );
    assert.equal(rows[0]!.revision, rerun.revision);
  });
});
