import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

type Status = 'Pending' | 'Scheduled' | 'Running' | 'Success' | 'Error' | 'Stopped' | 'Cancelled';
type Action = 'stop' | 'cancel' | 'retry';

/** What each action does from each status: the HTTP answer and the status the job settles in. */
const EXPECTED: Record<Action, Record<Status, { http: number; then: Status | 'new revision' }>> = {
  stop: {
    Pending: { http: 204, then: 'Stopped' },
    Scheduled: { http: 204, then: 'Stopped' },
    Running: { http: 204, then: 'Stopped' },
    Success: { http: 204, then: 'Success' },
    Error: { http: 204, then: 'Error' },
    Stopped: { http: 204, then: 'Stopped' },
    Cancelled: { http: 204, then: 'Cancelled' },
  },
  cancel: {
    Pending: { http: 204, then: 'Cancelled' },
    Scheduled: { http: 204, then: 'Cancelled' },
    Running: { http: 204, then: 'Cancelled' },
    Success: { http: 204, then: 'Success' },
    Error: { http: 204, then: 'Error' },
    Stopped: { http: 204, then: 'Stopped' },
    Cancelled: { http: 204, then: 'Cancelled' },
  },
  retry: {
    Pending: { http: 409, then: 'Pending' },
    Scheduled: { http: 409, then: 'Scheduled' },
    Running: { http: 409, then: 'Running' },
    Success: { http: 409, then: 'Success' },
    Error: { http: 204, then: 'new revision' },
    Stopped: { http: 204, then: 'new revision' },
    Cancelled: { http: 204, then: 'new revision' },
  },
};

describe('every action from every status', () => {
  let h: Harness;
  /** Shares no worker: its jobs stay Pending until the test starts one. */
  let idle: Harness;
  before(async () => {
    h = await createHarness();
    idle = await createHarness({ worker: false, config: testConfig() });
  });
  after(async () => {
    await idle.close();
    await h.close();
  });

  const demo = (params: Record<string, unknown>, metadata: Record<string, unknown> = { kind: 'Generic' }) => ({
    name: 'DEMO',
    parameters: { image: 'demo-matrix', step_ms: 0, hold_ms: 0, ...params },
    metadata,
  });

  async function jobIn(status: Status): Promise<{ harness: Harness; stats: JobStats }> {
    const later = demo({}, { kind: 'Scheduled', schedule_delay: 3600 });
    switch (status) {
      case 'Pending':
        return { harness: idle, stats: await idle.submit(demo({})) };
      case 'Scheduled':
        return { harness: h, stats: await h.submit(later) };
      case 'Running': {
        const { id } = await h.submit(demo({ step_ms: 30_000 }));
        return { harness: h, stats: await h.waitForStatus(id, ['Running']) };
      }
      case 'Success': {
        const { id } = await h.submit(demo({}));
        return { harness: h, stats: await h.waitForStatus(id, ['Success']) };
      }
      case 'Error': {
        const { id } = await h.submit({ name: 'TEST_FAIL', parameters: {}, metadata: { kind: 'Generic' } });
        return { harness: h, stats: await h.waitForStatus(id, ['Error']) };
      }
      case 'Stopped':
      case 'Cancelled': {
        const { id } = await h.submit(later);
        await h.request('POST', `/api/v1/jobs/${id}`, { action: status === 'Stopped' ? 'stop' : 'cancel' });
        return { harness: h, stats: await h.waitForStatus(id, [status]) };
      }
    }
  }

  for (const action of Object.keys(EXPECTED) as Action[]) {
    for (const status of Object.keys(EXPECTED[action]) as Status[]) {
      const expected = EXPECTED[action][status];
      it(`${action} from ${status} → ${expected.http}, then ${expected.then}`, async () => {
        const { harness, stats } = await jobIn(status);
        assert.equal(stats.status, status);
        const response = await harness.request('POST', `/api/v1/jobs/${stats.id}`, { action });
        assert.equal(response.status, expected.http, await response.clone().text());
        if (expected.http === 409) assert.equal(((await response.json()) as { code: number }).code, 10012);

        // The idle harness gets a worker only where the action changes something a worker must carry out.
        const needsWorker = harness === idle && expected.then !== status;
        if (needsWorker) await idle.startWorker();
        try {
          if (expected.then === 'new revision') {
            const next = await waitFor(
              () => harness.stats(stats.id),
              (s) => s.revision > stats.revision,
              {
                what: 'a new revision',
              },
            );
            assert.equal(next.id, stats.id);
          } else {
            const settled = await harness.waitForStatus(stats.id, [expected.then]);
            if (status === 'Pending' && expected.then !== 'Pending') {
              assert.equal(settled.check_in, undefined, 'a job stopped while Pending never ran');
            }
          }
        } finally {
          if (needsWorker) await idle.stopWorker();
          // Leave no long-running job behind for the next case.
          await harness.request('POST', `/api/v1/jobs/${stats.id}`, { action: 'stop' });
        }
      });
    }
  }
});
