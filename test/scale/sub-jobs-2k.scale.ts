/**
 * A job launching more sub jobs than one workflow run takes updates (Temporal's
 * `history.maxTotalUpdates`, 2,000: every launch is an update to the job's own workflow) ends in
 * Error saying so, with every sub job it did launch listed. About 100 s on 2 cores: `npm run test:scale`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/define-job.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { noopJob } from '../../src/jobs/noop-job.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const COUNT = 2100;

/** Launches `count` NOOP sub jobs, eight at a time (a run's launches in flight stay under Temporal's ten updates). */
const manyParent = defineJob({
  name: 'TEST_MANY_PARENT',
  maxFails: 1,
  params: z.object({ count: z.number().int().min(1).max(5000) }).strict(),
  async run(ctx, params) {
    for (let launched = 0; launched < params.count; launched += 8) {
      await Promise.all(Array.from({ length: Math.min(8, params.count - launched) }, () => ctx.launchJob({ name: 'NOOP' })));
    }
  },
});

describe(`a job launching ${COUNT} sub jobs`, () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ registry: createJobRegistry([noopJob, manyParent]) });
  });
  after(async () => {
    await h.close();
  });

  it('ends in Error naming the limit of a run’s launches, and lists every sub job it launched', async () => {
    const parent = await h.submit({ name: 'TEST_MANY_PARENT', parameters: { count: COUNT }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(parent.id, ['Success', 'Error'], 600_000);
    assert.equal(done.status, 'Error');
    assert.match(done.last_error ?? '', /launched as many sub jobs as one run of a job can \(Temporal takes 2,000 updates/);
    const launched = (await h.client.workflow.count(`UpstreamJobId = '${parent.id}'`)).count;
    assert.ok(launched > 1900 && launched < 2000, `${launched} launched`);
    assert.equal(done.sub_jobs?.length, launched);
  });
});
