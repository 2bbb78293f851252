import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * docs/batch-jobs.md: "Stop of the execution reaches its running targets at once, and no target
 * starts after it." A stop that the workflow handles after it asked for a target's start but
 * before it learnt the target had started is passed on to that target from inside the run's
 * cancelled scope (runTarget → recordSubJob), where the SDK never sends a signal.
 */
describe('a stop that comes while a fan-out is starting its targets (it missed those whose start was under way)', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({
      config: testConfig({ job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, checkin_min_interval_ms: 200 } }),
    });
  });
  after(async () => {
    await h.close();
  });

  const children = async (id: string) => {
    const ids: string[] = [];
    for await (const e of h.client.workflow.list({ query: `UpstreamJobId = '${id}'` })) ids.push(e.workflowId);
    return ids;
  };
  const signalled = async (id: string) =>
    ((await h.client.workflow.getHandle(id).fetchHistory()).events ?? []).some((e) => e.workflowExecutionSignaledEventAttributes);

  it('reaches every target it started, including those whose start was under way', async () => {
    const COUNT = 40;
    const job = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: COUNT, pool_size: COUNT, hold_ms: 30_000 },
      metadata: { kind: 'Generic' },
    });
    // Describe lists a child as pending from its start's initiation on: stop as the fan-out starts them.
    await waitFor(
      () => h.client.workflow.getHandle(job.id).describe(),
      (d) => (d.raw.pendingChildren?.length ?? 0) > 0,
      { intervalMs: 5, timeoutMs: 30_000, what: 'the fan-out to start its targets' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    const parent = await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 30_000);
    assert.equal(parent.status, 'Stopped');
    const ids = await waitFor(
      () => children(job.id),
      (c) => c.length === COUNT,
      // Forty starts at once: on a loaded server visibility trails them by seconds.
      { timeoutMs: 60_000, what: 'the targets in visibility' },
    );
    // A stopped target ends within a heartbeat or two (ctx.sleep ends on stop): 10 s is a third of its hold.
    const settled = await waitFor(
      () => Promise.all(ids.map((id) => h.stats(id))),
      (all) => all.every((s) => !['Running', 'Pending'].includes(s.status)),
      { timeoutMs: 10_000, what: 'every started target to end' },
    ).catch(() => Promise.all(ids.map((id) => h.stats(id))));
    const unstopped = settled.filter((s) => s.status !== 'Stopped');
    const neverSignalled = (await Promise.all(unstopped.map((s) => signalled(s.id)))).filter((got) => !got).length;
    assert.equal(
      unstopped.length,
      0,
      `the execution reads ${parent.status}, but 10 s after the stop ${unstopped.length} of its ${ids.length} targets still run ` +
        `(${unstopped.map((s) => s.status).join(', ')}); ${neverSignalled} of them never got a stop signal`,
    );
  });

  it('a stopped fan-out whose targets outlast the stop grace lists them in its results once they have ended', async () => {
    const job = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 2, hold_ms: 6000, ignore_stop: true },
      metadata: { kind: 'Generic' },
    });
    const ids = await waitFor(
      () => children(job.id),
      (c) => c.length === 2,
      { what: 'its targets started' },
    );
    await waitFor(
      () => Promise.all(ids.map((id) => h.stats(id))),
      (all) => all.every((s) => s.status === 'Running'),
      { what: 'its targets running' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    // Past the grace (2 s) the job reads Stopped; its targets, deaf to the stop, run on.
    assert.equal((await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 30_000)).status, 'Stopped');
    await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).describe()).status.name,
      (s) => s !== 'RUNNING',
      { what: 'the stopped job to outlive its targets', timeoutMs: 30_000 },
    );
    const done = await h.stats(job.id);
    assert.equal(done.status, 'Stopped');
    const results = Object.entries(done.results ?? {}).sort(([a], [b]) => a.localeCompare(b));
    assert.deepEqual(
      results.map(([target, r]) => [target, r.status]),
      [
        ['t00', 'Stopped'],
        ['t01', 'Stopped'],
      ],
      `results: ${JSON.stringify(done.results)}`,
    );
    assert.deepEqual(results.map(([, r]) => r.job_id).sort(), [...ids].sort());
  });
});
