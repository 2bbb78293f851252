import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

describe('a parent terminated from the Web UI or CLI while its sub jobs run (its stop answered 204 and stopped none)', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({
      config: testConfig({ job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, checkin_min_interval_ms: 200 } }),
    });
  });
  after(async () => {
    await h.close();
  });

  it('a stop of the parent (answered 204) reaches the sub jobs it left running', async () => {
    const parent = await h.submit({
      name: 'TEST_PARENT',
      parameters: { count: 2, child_step_ms: 30_000, hold_ms: 60_000 },
      metadata: { kind: 'Generic' },
    });
    const running = await waitFor(
      () => h.stats(parent.id),
      (s) => s.check_in === 'launched 2',
      { what: 'the sub jobs to launch' },
    );
    const children = running.sub_jobs!;
    for (const id of children) await h.waitForStatus(id, ['Running']);
    await h.client.workflow.getHandle(parent.id).terminate('operator');
    const stopped = await h.waitForStatus(parent.id, ['Stopped']);
    assert.deepEqual(stopped.sub_jobs, children, 'GET of the parent still lists its sub jobs');
    const stop = await h.request('POST', `/api/v1/jobs/${parent.id}`, { action: 'stop' });
    assert.equal(stop.status, 204);
    // The sub jobs check their signal every step; a stop that reached them ends them within seconds.
    const after = await waitFor(
      () => Promise.all(children.map((id) => h.stats(id))),
      (all) => all.every((s) => s.status !== 'Running'),
      { timeoutMs: 15_000, what: 'the sub jobs to stop' },
    ).catch(async (err: Error) => {
      const now = await Promise.all(children.map((id) => h.stats(id)));
      throw new Error(`${err.message}; parent ${stopped.status}, sub jobs: ${now.map((s) => `${s.id} ${s.status}`).join(', ')}`);
    });
    for (const s of after) assert.equal(s.status, 'Stopped');
  });
});
