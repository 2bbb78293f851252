import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, type Harness } from '../helpers/harness.js';
import { deleteSchedules } from '../helpers/schedules.js';

describe('@every counts from when the periodic job was created, as Harbor’s cron library does', () => {
  let h: Harness;
  const created: string[] = [];
  before(async () => {
    h = await createHarness({ worker: false });
  });
  after(async () => {
    await deleteSchedules(h.client, created);
    await h.close();
  });

  for (const every of [90, 7 * 60 + 13]) {
    it(`@every ${every}s first fires ${every} s after creation, then every ${every} s`, async () => {
      const before = Date.now();
      const job = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: `@every ${every}s` } });
      created.push(job.id);
      const [first, second] = job.next_run_times!.map((t) => Date.parse(t));
      // Epoch-aligned firing would land anywhere in the interval; counted from creation it lands here.
      assert.ok(first! >= Math.floor(before / 1000) * 1000 + every * 1000 - 1000, `${job.next_run_times![0]} is early`);
      assert.ok(first! <= Date.now() + every * 1000 + 1000, `${job.next_run_times![0]} is late`);
      assert.equal(second! - first!, every * 1000);
    });
  }
});
