import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { JobStats } from '../../src/shared/job-model.js';
import { after, before } from 'node:test';
import { createHarness, type Harness } from './harness.js';

/** Delete the schedules a test created (ones an operator or the test already deleted are fine). */
export async function deleteSchedules(client: Client, ids: Iterable<string>): Promise<void> {
  for (const id of ids) {
    await client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  }
}

/**
 * A test file's periodic jobs: `periodic` submits a NOOP periodic job (recorded in `created` for
 * deleteSchedules), `executions` reads `GET /jobs/{id}/executions` with its Total-Count.
 */
export function periodicJobs(harness: () => Harness, created: string[]) {
  const periodic = async (cron: string, extra: Record<string, unknown> = {}, parameters: Record<string, unknown> = {}) => {
    const stats = await harness().submit({ name: 'NOOP', parameters, metadata: { kind: 'Periodic', cron_spec: cron, ...extra } });
    created.push(stats.id);
    return stats;
  };
  const executions = async (id: string, query = '') => {
    const response = await harness().request('GET', `/api/v1/jobs/${id}/executions?${query}`);
    assert.equal(response.status, 200, await response.clone().text());
    return {
      total: Number(response.headers.get('total-count')),
      jobs: ((await response.json()) as { job: JobStats }[]).map((i) => i.job),
    };
  };
  return { periodic, executions };
}

/**
 * A test file's harness for periodic jobs: one harness for the file (`onHarness` gets it once it is
 * up), and the schedules its tests created (`created`, which `periodic` fills) deleted at the end.
 */
export function periodicSuite(onHarness: (h: Harness) => void) {
  let harness: Harness | undefined;
  const created: string[] = [];
  before(async () => {
    harness = await createHarness();
    onHarness(harness);
  });
  after(async () => {
    if (!harness) return;
    await deleteSchedules(harness.client, created);
    await harness.close();
  });
  return { created, ...periodicJobs(() => harness!, created) };
}
