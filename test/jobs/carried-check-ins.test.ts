import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/define-job.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { demoJob } from '../../src/jobs/demo-job.js';
import { noopJob } from '../../src/jobs/noop-job.js';
import type { HookEvent } from '../../src/shared/hook-event.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

/** Checks in, waits to be stopped, then checks in what it did, as a retention run stopped midway does. */
const summaryOnStopJob = defineJob({
  name: 'SUMMARY_ON_STOP',
  maxFails: 1,
  params: z.object({}).strict(),
  async run(ctx) {
    ctx.checkin('step 1');
    await ctx.sleep(60_000);
    if (ctx.opCommand()) ctx.checkin('summary: stopped after step 1');
  },
});

/**
 * A short job (a local activity) whose result is a check-in. Its cap is below the 5 s a check-in
 * update may wait for an answer: an update its own held workflow task cannot take overran it.
 */
const shortCheckInJob = defineJob({
  name: 'SHORT_CHECK_IN',
  maxFails: 1,
  short: { capMs: 3_000 },
  params: z.object({}).strict(),
  async run(ctx) {
    ctx.checkin('short summary');
  },
});

const shown = (events: HookEvent[]) => events.map((e) => `${e.status}${e.check_in !== undefined ? `(${e.check_in})` : ''}`).join(', ');

describe('check-ins a run hands back with its result reach stats and the status hook', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({ registry: createJobRegistry([demoJob, noopJob, summaryOnStopJob, shortCheckInJob]) });
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('a check-in made after a stop goes to the hook as a check-in, before Stopped', async () => {
    const job = await h.submit({
      name: 'SUMMARY_ON_STOP',
      parameters: {},
      status_hook: receiver.url('stop'),
      metadata: { kind: 'Generic' },
    });
    await waitFor(
      async () => receiver.accepted('stop'),
      (events) => events.some((e) => e.check_in === 'step 1'),
      { what: 'the first check-in hook' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    const stopped = await h.waitForStatus(job.id, ['Stopped'], 30_000);
    assert.equal(stopped.check_in, 'summary: stopped after step 1');
    const events = await waitFor(
      async () => receiver.accepted('stop'),
      (list) => list.some((e) => e.status === 'Stopped') && list.some((e) => e.check_in === 'summary: stopped after step 1'),
      { what: 'the summary check-in and the Stopped hook' },
    );
    const summary = events.findIndex((e) => e.check_in === 'summary: stopped after step 1');
    assert.ok(summary < events.findIndex((e) => e.status === 'Stopped'), `the summary goes out before Stopped: ${shown(events)}`);
    // As Harbor's CheckIn: the current status with the message; the job was still running it.
    assert.equal(events[summary]!.status, 'Running');
  });

  it("a short job's check-in comes back with its result: Success with it, and its hook gets Running, the check-in, Success", async () => {
    const job = await h.submit({
      name: 'SHORT_CHECK_IN',
      parameters: {},
      status_hook: receiver.url('short'),
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 30_000);
    assert.equal(done.status, 'Success', `${done.status}: ${done.last_error ?? ''}`);
    assert.equal(done.check_in, 'short summary');
    const events = await waitFor(
      async () => receiver.accepted('short'),
      (list) => list.some((e) => e.status === 'Success'),
      { what: 'the Success hook' },
    );
    assert.equal(shown(events), 'Running, Running(short summary), Success');
  });

  it("a short job's check-in without a status hook shows in its final stats", async () => {
    const job = await h.submit({ name: 'SHORT_CHECK_IN', parameters: {}, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 30_000);
    assert.equal(done.status, 'Success', `${done.status}: ${done.last_error ?? ''}`);
    assert.equal(done.check_in, 'short summary');
  });
});
