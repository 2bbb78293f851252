import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

describe('listing jobs', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig({ max_retrieve_size_mb: 0.0001 }) });
  });
  after(async () => {
    await h.close();
  });

  it('lists jobs from Temporal visibility with filters, paging and Total-Count', async () => {
    const ok = await h.submit({ name: 'DEMO', parameters: { image: 'demo-list', step_ms: 0, hold_ms: 0 }, metadata: { kind: 'Generic' } });
    const bad = await h.submit({ name: 'TEST_FAIL', parameters: {}, metadata: { kind: 'Generic' } });
    const later = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-later' },
      metadata: { kind: 'Scheduled', schedule_delay: 3600 },
    });
    const noop = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
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
      (r) => r.total >= 4,
      { what: 'every job in the list' },
    );
    // The harness has a task queue of its own: these four are all its jobs.
    assert.equal(all.total, 4);
    assert.deepEqual(new Set(all.ids), new Set([ok.id, bad.id, later.id, noop.id]));
    const page1 = await list('page_size=2&page_number=1');
    const page2 = await list('page_size=2&page_number=2');
    assert.equal(page1.ids.length, 2);
    assert.equal(page2.ids.length, 2);
    assert.equal(page1.total, all.total);
    assert.equal(new Set([...page1.ids, ...page2.ids]).size, 4);
    const beyond = await list(`page_size=100&page_number=50`);
    assert.deepEqual(beyond.ids, []);

    // Harbor's cursor: each page's Next-Cursor leads to the next, 0 at the end; page_number is ignored beside it.
    const byCursor = async (cursor: string) => {
      const response = await h.request('GET', `/api/v1/jobs?page_size=3&page_number=7&cursor=${cursor}`);
      assert.equal(response.status, 200);
      const items = (await response.json()) as { job: JobStats }[];
      return { ids: items.map((i) => i.job.id), next: response.headers.get('next-cursor') };
    };
    const first = await byCursor('0');
    assert.deepEqual(first, { ids: all.ids.slice(0, 3), next: '3' });
    const second = await byCursor(first.next!);
    assert.deepEqual(second, { ids: all.ids.slice(3), next: '0' });
    assert.deepEqual(await byCursor('40'), { ids: [], next: '0' });
    // Page numbers say where the next page starts too, and a page that ends the listing says 0.
    assert.equal((await h.request('GET', '/api/v1/jobs?page_size=2&page_number=1')).headers.get('next-cursor'), '2');
    assert.equal((await h.request('GET', '/api/v1/jobs?page_size=2&page_number=2')).headers.get('next-cursor'), '0');

    await h.request('POST', `/api/v1/jobs/${later.id}`, { action: 'stop' });
    await h.waitForStatus(later.id, ['Stopped']);
  });
  it('a retried job is one row, with its current status, and counts once', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-retried', step_ms: 60_000, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Running']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(job.id, ['Stopped']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' })).status, 204);
    await h.waitForStatus(job.id, ['Running']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'cancel' })).status, 204);
    await h.waitForStatus(job.id, ['Cancelled']);
    const rows = async (query: string) => {
      const response = await h.request('GET', `/api/v1/jobs?${query}&page_size=100`);
      const body = (await response.json()) as { job: JobStats }[];
      return {
        ids: body.map((r) => r.job.id).filter((id) => id === job.id),
        statuses: body.filter((r) => r.job.id === job.id).map((r) => r.job.status),
        total: Number(response.headers.get('Total-Count')),
      };
    };
    // Visibility lags the delete of the retried run a little.
    const all = await waitFor(
      () => rows('name=DEMO'),
      (r) => r.ids.length === 1 && r.statuses[0] === 'Cancelled',
      { what: 'the retried job listed once, as Cancelled' },
    );
    assert.deepEqual(all.statuses, ['Cancelled']);
    assert.deepEqual((await rows('name=DEMO&status=Stopped')).ids, [], 'the stopped run it was is not listed as Stopped');
    const cancelled = await waitFor(
      () => rows('name=DEMO&status=Cancelled'),
      (r) => r.ids.length > 0,
      { what: 'the job listed under Cancelled' },
    );
    assert.deepEqual(cancelled.ids, [job.id]);
    const before = (await rows('name=DEMO')).total;
    const distinct = new Set(
      ((await (await h.request('GET', '/api/v1/jobs?name=DEMO&page_size=100')).json()) as { job: JobStats }[]).map((r) => r.job.id),
    );
    assert.equal(before, distinct.size, 'Total-Count counts jobs, not runs');
  });
});
