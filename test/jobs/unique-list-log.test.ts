import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { uniqueJobId } from '../../src/api/job-gateway.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

describe('unique jobs, listing, logs and operator interop', () => {
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
    const body = (await second.json()) as { code: number; description: string };
    assert.equal(body.code, 10012);
    assert.match(body.description, new RegExp(first.id));
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
    assert.ok(rerun.revision >= done.revision);
    await h.waitForStatus(first.id, ['Success']);
    await h.waitForStatus(other.id, ['Success']);
    await h.waitForStatus(plain.id, ['Success']);
  });

  it('lists jobs from Temporal visibility with filters, paging and Total-Count', async () => {
    const ok = await h.submit({ name: 'DEMO', parameters: { image: 'demo-list', step_ms: 0, hold_ms: 0 }, metadata: { kind: 'Generic' } });
    const bad = await h.submit({ name: 'TEST_FAIL', parameters: {}, metadata: { kind: 'Generic' } });
    const later = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-later' },
      metadata: { kind: 'Scheduled', schedule_delay: 3600 },
    });
    await h.waitForStatus(ok.id, ['Success']);
    await h.waitForStatus(bad.id, ['Error']);

    const list = async (query: string) => {
      const response = await h.request('GET', `/api/v1/jobs?${query}`);
      assert.equal(response.status, 200);
      const items = (await response.json()) as { job: JobStats }[];
      return { total: Number(response.headers.get('total-count')), ids: items.map((i) => i.job.id), items };
    };
    const errors = await waitFor(
      () => list('status=Error&name=TEST_FAIL'),
      (r) => r.ids.includes(bad.id),
      {
        what: 'the failed job in the Error list',
      },
    );
    assert.deepEqual(errors.ids, [bad.id]);
    assert.equal(errors.total, 1);
    assert.equal(errors.items[0]!.job.status, 'Error');

    const scheduled = await waitFor(
      () => list('kind=Scheduled&status=Scheduled'),
      (r) => r.ids.includes(later.id),
      {
        what: 'the scheduled job in the list',
      },
    );
    assert.deepEqual(scheduled.ids, [later.id]);

    const all = await waitFor(
      () => list('page_size=100'),
      (r) => r.total >= 7,
      { what: 'every job in the list' },
    );
    assert.equal(all.ids.length, all.total);
    const page1 = await list('page_size=2&page_number=1');
    const page2 = await list('page_size=2&page_number=2');
    assert.equal(page1.ids.length, 2);
    assert.equal(page2.ids.length, 2);
    assert.equal(page1.total, all.total);
    assert.equal(new Set([...page1.ids, ...page2.ids]).size, 4);
    const beyond = await list(`page_size=100&page_number=50`);
    assert.deepEqual(beyond.ids, []);

    await h.request('POST', `/api/v1/jobs/${later.id}`, { action: 'stop' });
    await h.waitForStatus(later.id, ['Stopped']);
  });

  it('serves the tail of a job log capped by max_retrieve_size_mb, as text/plain', async () => {
    const { id } = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-log', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(id, ['Success']);
    const response = await waitFor(
      () => h.request('GET', `/api/v1/jobs/${id}/log`),
      (r) => r.status === 200,
      { what: 'the log' },
    );
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await response.text();
    const cap = Math.floor(0.0001 * 1024 * 1024);
    assert.ok(Buffer.byteLength(text) <= cap, `log of ${Buffer.byteLength(text)} bytes exceeds the ${cap}-byte cap`);
    // The tail, not the head: the last line is the end of the run.
    assert.match(text, /run finished\n$/);

    // A big log is cut to the cap from the end.
    writeFileSync(join(h.logDir, `${id}.log`), `${'a'.repeat(5000)}THE END\n`);
    const tail = await (await h.request('GET', `/api/v1/jobs/${id}/log`)).text();
    assert.equal(Buffer.byteLength(tail), cap);
    assert.ok(tail.endsWith('THE END\n'));
  });

  it('reflects a Temporal cancel (Web UI / CLI) as Cancelled and a terminate as Stopped', async () => {
    const a = await h.submit({ name: 'DEMO', parameters: { image: 'demo-ui', step_ms: 30_000 }, metadata: { kind: 'Generic' } });
    const b = await h.submit({ name: 'DEMO', parameters: { image: 'demo-ui', step_ms: 30_000 }, metadata: { kind: 'Generic' } });
    await h.waitForStatus(a.id, ['Running']);
    await h.waitForStatus(b.id, ['Running']);
    await h.client.workflow.getHandle(a.id).cancel();
    await h.client.workflow.getHandle(b.id).terminate('operator says so');
    const cancelled = await h.waitForStatus(a.id, ['Cancelled']);
    assert.equal(cancelled.status, 'Cancelled');
    assert.equal((await h.client.workflow.getHandle(a.id).describe()).status.name, 'CANCELLED');
    const stopped = await h.waitForStatus(b.id, ['Stopped']);
    assert.equal(stopped.status, 'Stopped');
    // Both are found by the REST list filters too.
    const listed = await waitFor(
      async () => ((await (await h.request('GET', '/api/v1/jobs?status=Stopped')).json()) as { job: JobStats }[]).map((i) => i.job.id),
      (ids) => ids.includes(b.id),
      { what: 'the terminated job under status=Stopped' },
    );
    assert.ok(listed.includes(b.id));
  });

  it('is legible in the Web UI: workflow type, id, search attributes and activity name', async () => {
    const { id } = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-ui', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(id, ['Success']);
    const handle = h.client.workflow.getHandle(id);
    const description = await handle.describe();
    assert.equal(description.type, 'GenericJob');
    assert.equal(description.workflowId, id);
    const attributes = description.typedSearchAttributes;
    const value = (name: string) => attributes.getAll().find((pair) => pair.key.name === name)?.value;
    assert.equal(value('JobName'), 'DEMO');
    assert.equal(value('JobKind'), 'Generic');
    assert.equal(value('JobStatus'), 'Success');
    const history = await handle.fetchHistory();
    const scheduled = history.events?.find((e) => e.activityTaskScheduledEventAttributes);
    assert.equal(scheduled?.activityTaskScheduledEventAttributes?.activityType?.name, 'executeJob');
    assert.equal(await description.staticSummary(), 'DEMO job (Generic)');
  });
});
