import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineBatchJob } from '../../src/jobs/batch/define-batch-job.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { defineJob } from '../../src/jobs/define-job.js';

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

  it("takes maxFails 0 as Harbor's default of 4 runs, and refuses a negative one", () => {
    const job = (maxFails: number) => defineJob({ name: 'ZERO_FAILS', maxFails, params: z.object({}).strict(), run: async () => {} });
    assert.equal(job(0).maxFails, 4);
    assert.equal(createJobRegistry([job(0)]).get('ZERO_FAILS')?.maxFails, 4);
    assert.equal(job(2).maxFails, 2);
    assert.throws(() => job(-1), /maxFails must be a positive integer/);
  });

  it('refuses a metrics prefix that is not a Prometheus name', () => {
    assert.throws(() => batchJob('C_REPORT', 'bad-prefix'), /metrics prefix "bad-prefix"/);
  });
});
