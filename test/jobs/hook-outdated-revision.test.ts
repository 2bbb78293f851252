/**
 * A retry's older revision still being retried must not reach the receiver after the new
 * revision's events. Harbor's hook agent (src/jobservice/hook/hook_agent.go, retry → isOutdated)
 * abandons a retried event once the job's ack holds a later revision ("Hook event is abandoned as
 * it's outdated"), so a receiver never hears an old run's status after the new run's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HookEvent } from '../../src/shared/hook-event.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { startEventReceiver, type EventReceiver } from '../helpers/event-receiver.js';

describe('status hooks of a retried job: an old revision’s retried event is dropped once a newer one has begun', () => {
  let h: Harness;
  let receiver: EventReceiver;
  let url = '';
  const accepted: HookEvent[] = [];
  /** Events of this revision are refused (503) while set. */
  let refuseRevision: number | undefined;
  /** Only events of this status are refused, when set. */
  let refuseStatus: string | undefined;
  let refused = 0;
  /** The events refused, `<job id> <status>@<revision>`. */
  const refusedEvents: string[] = [];
  before(async () => {
    receiver = await startEventReceiver((event, res) => {
      if (refuseRevision !== undefined && event.metadata.revision === refuseRevision && (refuseStatus ?? event.status) === event.status) {
        refused += 1;
        refusedEvents.push(`${event.job_id} ${event.status}@${event.metadata.revision}`);
        res.writeHead(503).end('not now');
        return;
      }
      accepted.push(event);
      res.writeHead(200).end();
    });
    url = receiver.url;
    h = await createHarness({
      config: testConfig({
        job: {
          stop_grace_seconds: 2,
          heartbeat_timeout_seconds: 5,
          hook_retry_initial_ms: 100,
          hook_retry_max_seconds: 1,
          hook_drain_ms: 500,
        },
      }),
    });
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('an old revision’s Stopped, still being retried, is not delivered after the retried run’s Success', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-stale', step_ms: 0, hold_ms: 0 },
      status_hook: url,
      metadata: { kind: 'Scheduled', schedule_delay: 3600 },
    });
    refuseRevision = job.revision;
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(job.id, ['Stopped']);
    await waitFor(
      async () => refused,
      (n) => n >= 1,
      { what: 'the Stopped hook refused once' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' })).status, 204);
    const done = await h.waitForStatus(job.id, ['Success']);
    assert.ok(done.revision > job.revision);
    await waitFor(
      async () => accepted,
      (e) => e.some((x) => x.status === 'Success'),
      { what: 'the retried run’s Success hook' },
    );
    // The receiver is fine again: what the old revision still owes may now go (or be dropped).
    refuseRevision = undefined;
    const delivery = h.client.workflow.getHandle(`${job.id}-hooks-${job.revision}`);
    await waitFor(
      () => delivery.describe().then((d) => d.status.name),
      (s) => s !== 'RUNNING',
      { what: 'the old revision’s HookDelivery to finish', timeoutMs: 30_000 },
    );
    const seen = accepted.map((e) => `${e.status}@${e.metadata.revision}`);
    let newest = 0;
    for (const e of accepted) {
      assert.ok(e.metadata.revision >= newest, `an outdated event reached the receiver after a newer revision's: ${seen.join(', ')}`);
      newest = Math.max(newest, e.metadata.revision);
    }
  });

  it('a job’s own outbox keeps its order: the Error of a run it retries reaches a receiver that was down meanwhile', async () => {
    const job = await h.submit({ name: 'TEST_FAIL', parameters: {}, status_hook: url, metadata: { kind: 'Generic' } });
    refuseRevision = job.revision;
    refuseStatus = 'Error';
    // The run fails and the job's retry begins a new revision while the receiver refuses the first
    // one's events, its Error among them: the Error's next attempt comes after the new revision began.
    await waitFor(
      () => h.stats(job.id),
      (s) => s.revision > job.revision,
      { what: 'the retry’s new revision' },
    );
    await waitFor(
      async () => refusedEvents,
      (events) => events.includes(`${job.id} Error@${job.revision}`),
      { what: 'the first run’s Error refused' },
    );
    refuseRevision = undefined;
    refuseStatus = undefined;
    await h.waitForStatus(job.id, ['Error']);
    const seen = await waitFor(
      async () => accepted.filter((e) => e.job_id === job.id).map((e) => `${e.status}@${e.metadata.revision}`),
      (events) => events.filter((e) => e.startsWith('Error@')).length === 2,
      { what: `both runs’ Error events (refused: ${refusedEvents.join(', ')})` },
    );
    assert.ok(seen.includes(`Error@${job.revision}`), seen.join(', '));
    assert.ok(seen.indexOf(`Error@${job.revision}`) < seen.findIndex((e) => !e.endsWith(`@${job.revision}`)), seen.join(', '));
  });
});
