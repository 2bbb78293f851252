import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineBatchJob } from '../../src/jobs/batch/define-batch-job.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';

const batchJob = (name: string, metricsPrefix?: string) =>
  defineBatchJob({
    name,
    ...(metricsPrefix ? { metricsPrefix } : {}),
    params: z.object({}).strict(),
    gauges: [{ suffix: 'value', help: 'a value', labels: [] }],
    listTargets: async () => [],
    runTarget: async () => undefined,
  });

describe('the job registry', () => {
  it('refuses two batch jobs exporting one gauge name (a scrape of /metrics would fail on it)', () => {
    assert.throws(
      () => createJobRegistry([...batchJob('A_REPORT', 'shared'), ...batchJob('B_REPORT', 'shared')]),
      /both export the gauge shared_value/,
    );
    assert.doesNotThrow(() => createJobRegistry([...batchJob('A_REPORT'), ...batchJob('B_REPORT')]));
  });

  it('refuses a metrics prefix that is not a Prometheus name', () => {
    assert.throws(() => batchJob('C_REPORT', 'bad-prefix'), /metrics prefix "bad-prefix"/);
  });
});
