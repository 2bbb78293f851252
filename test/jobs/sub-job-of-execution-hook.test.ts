import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * src/shared/hook-event.ts: "One id form per payload: an execution is `<periodic id>@<epoch>` in
 * job_id and metadata alike." A sub job launched by an execution names that execution in its own
 * events' metadata.upstream_job_id in that form too (it named it in Temporal's `<periodic id>-<RFC
 * 3339>Z` form, which no event of the execution carries: a receiver could not tie the two).
 */
describe('the status hook of a sub job launched by a periodic execution', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({ job: { hook_retry_initial_ms: 100, hook_retry_max_seconds: 1, hook_drain_ms: 1000 } }),
    });
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it("names the execution as the execution's own events do (<periodic id>@<epoch>)", async () => {
    const periodic = await h.submit({
      name: 'TEST_HOOKED_PARENT',
      parameters: { hook: receiver.url('child'), refused: [] },
      status_hook: receiver.url('parent'),
      metadata: { kind: 'Periodic', cron_spec: '@yearly' },
    });
    try {
      assert.equal((await h.request('POST', `/api/v1/jobs/${periodic.id}`, { action: 'trigger' })).status, 204);
      const parentEvents = await waitFor(
        async () => receiver.accepted('parent'),
        (e) => e.some((x) => x.status === 'Success'),
        { timeoutMs: 30_000, what: "the execution's Success hook" },
      );
      const childEvents = await waitFor(
        async () => receiver.accepted('child'),
        (e) => e.some((x) => x.status === 'Success'),
        { timeoutMs: 30_000, what: "the sub job's Success hook" },
      );
      const execution = parentEvents[0]!.job_id;
      assert.match(execution, new RegExp(`^${periodic.id}@\\d+$`));
      for (const e of childEvents) {
        assert.equal(
          e.metadata.upstream_job_id,
          execution,
          `sub job ${e.job_id}'s ${e.status} event names its parent ${e.metadata.upstream_job_id}`,
        );
      }
    } finally {
      await h.request('POST', `/api/v1/jobs/${periodic.id}`, { action: 'stop' });
      await h.client.schedule
        .getHandle(periodic.id)
        .delete()
        .catch(() => undefined);
    }
  });
});
