import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/define-job.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';

/** Release 1 of a job type: any `mode`; fails, never retried by itself. */
const v1 = defineJob({
  name: 'TEST_EVOLVE',
  maxFails: 1,
  params: z.object({ mode: z.string() }).strict(),
  async run() {
    throw new Error('release 1 fails');
  },
});
/** Release 2 of the same type: `mode` must be a or b now. */
const v2 = defineJob({
  name: 'TEST_EVOLVE',
  maxFails: 3,
  retryInitialIntervalMs: 100,
  params: z.object({ mode: z.enum(['a', 'b']) }).strict(),
  async run() {},
});
/** A type release 2 no longer has. */
const gone = defineJob({
  name: 'TEST_GONE',
  maxFails: 1,
  params: z.object({}).strict(),
  async run() {
    throw new Error('fails');
  },
});

describe('retrying a job after a release changed its type', () => {
  const harnesses: Harness[] = [];
  after(async () => {
    for (const h of harnesses.reverse()) await h.close();
  });

  it('is refused with a 400 naming the reason when today’s type refuses its parameters or is gone, and the job stays as it was', async () => {
    const first = testConfig();
    const before = await createHarness({ config: first, registry: createJobRegistry([v1, gone]) });
    const evolve = await before.submit({ name: 'TEST_EVOLVE', parameters: { mode: 'x' }, metadata: { kind: 'Generic' } });
    const removed = await before.submit({ name: 'TEST_GONE', parameters: {}, metadata: { kind: 'Generic' } });
    const failed = await before.waitForStatus(evolve.id, ['Error']);
    await before.waitForStatus(removed.id, ['Error']);
    await before.close({ keepJobs: true });

    // The next release, on the same task queue.
    const h = await createHarness({
      config: testConfig({ temporal: { task_queue: first.temporal.task_queue } }),
      registry: createJobRegistry([v2]),
    });
    harnesses.push(h);
    const submit = await h.request('POST', '/api/v1/jobs', {
      job: { name: 'TEST_EVOLVE', parameters: { mode: 'x' }, metadata: { kind: 'Generic' } },
    });
    assert.equal(submit.status, 400, 'a submit of the same parameters is refused');

    for (const [id, mentions] of [
      [evolve.id, /refuses its parameters: mode/],
      [removed.id, /no job named "TEST_GONE"/],
    ] as const) {
      const retry = await h.request('POST', `/api/v1/jobs/${id}`, { action: 'retry' });
      const text = await retry.text();
      assert.equal(retry.status, 400, text);
      const body = JSON.parse(text) as { code: number; description: string };
      assert.equal(body.code, 10013, text);
      assert.match(body.description, mentions);
    }
    const unchanged = await h.stats(evolve.id);
    assert.deepEqual([unchanged.status, unchanged.revision, unchanged.fails], ['Error', failed.revision, failed.fails]);
  });
});
