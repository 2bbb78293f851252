import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { canonicalJson } from '../../src/shared/canonical-json.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { deleteSchedules } from '../helpers/schedules.js';
import { waitFor } from '../helpers/wait-for.js';

describe('retries and unique ids: what a user of Harbor expects of them', () => {
  let h: Harness;
  const schedules: string[] = [];
  before(async () => {
    // The harness seals secrets with a test key, as a deployment with job.sealing_keys does.
    h = await createHarness();
  });
  after(async () => {
    await deleteSchedules(h.client, schedules);
    await h.close();
  });

  it('a retried periodic execution does not run beside another one of a Forbid job: 409 while one runs, as the schedule would skip it', async () => {
    const job = await h.submit({
      name: 'NOOP',
      parameters: { duration_ms: 60_000 },
      metadata: { kind: 'Periodic', cron_spec: '@yearly', concurrency_policy: 'Forbid' },
    });
    schedules.push(job.id);
    const trigger = async () => {
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' })).status, 204);
      return (await h.client.schedule.getHandle(job.id).describe()).info.recentActions.at(-1)!.action.workflow.workflowId;
    };
    const first = await trigger();
    await h.waitForStatus(first, ['Running']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${first}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(first, ['Stopped']);
    const second = await trigger();
    assert.notEqual(second, first);
    await h.waitForStatus(second, ['Running']);

    const refused = await h.request('POST', `/api/v1/jobs/${first}`, { action: 'retry' });
    assert.equal(refused.status, 409);
    const body = (await refused.json()) as { code: number; description: string };
    assert.equal(body.code, 10012);
    assert.match(body.description, new RegExp(`concurrency_policy Forbid and its execution ${second} is running`));
    assert.equal((await h.stats(first)).status, 'Stopped', 'the refused retry started nothing');

    // Once none runs, the retry goes.
    assert.equal((await h.request('POST', `/api/v1/jobs/${second}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(second, ['Stopped']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${first}`, { action: 'retry' })).status, 204);
    await h.waitForStatus(first, ['Running']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
  });

  it("a retry sets update_time to when it was retried, as Harbor's reset does, while the new run waits", async () => {
    const failed = await h.submit({ name: 'TEST_FAIL', parameters: {}, metadata: { kind: 'Generic' } });
    const error = await h.waitForStatus(failed.id, ['Error']);
    // A later second than the submit's, so the two times can differ.
    await waitFor(
      async () => Math.floor(Date.now() / 1000),
      (now) => now > error.update_time,
      { what: 'a later second' },
    );
    await h.stopWorker();
    try {
      assert.equal((await h.request('POST', `/api/v1/jobs/${failed.id}`, { action: 'retry' })).status, 204);
      const retried: JobStats = await waitFor(
        () => h.stats(failed.id),
        (s) => s.revision > error.revision,
        { what: 'the retried run' },
      );
      assert.equal(retried.status, 'Pending');
      assert.equal(retried.enqueue_time, failed.enqueue_time, 'enqueue_time stays the submit');
      assert.equal(retried.update_time, retried.revision, `update_time ${retried.update_time}, error's ${error.update_time}`);
    } finally {
      await h.startWorker();
    }
  });

  it("a unique job's id does not let its redacted secret be tested offline: the id is keyed with the sealing key", async () => {
    const parameters = { address: 'http://127.0.0.1:1/notify', payload: '{"event":"push"}', auth_header: 'Bearer 2387' };
    const submitted = await h.submit({ name: 'WEBHOOK', parameters, metadata: { kind: 'Generic', unique: true } });
    const shown = await h.stats(submitted.id);
    assert.equal(shown.parameters.auth_header, '[redacted]');
    const plain = createHash('sha256')
      .update(`WEBHOOK\n${canonicalJson(parameters)}`)
      .digest('hex')
      .slice(0, 24);
    assert.notEqual(shown.id, plain, 'the id is a plain hash of name and parameters');
    // Still unique: the same submit meets the first.
    const again = await h.request('POST', '/api/v1/jobs', {
      job: { name: 'WEBHOOK', parameters, metadata: { kind: 'Generic', unique: true } },
    });
    if (again.status === 409) assert.equal(((await again.json()) as { code: number }).code, 10012);
    else assert.equal(((await again.json()) as { job: JobStats }).job.id, submitted.id);
  });
});
