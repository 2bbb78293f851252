import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

describe('operator interop: the Web UI and the CLI', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig({ max_retrieve_size_mb: 0.0001 }) });
  });
  after(async () => {
    await h.close();
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
