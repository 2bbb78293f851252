import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, testConfig, testTemporalCli, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

/** Temporal's shortest catch-up window is 10 s, so missing a fire takes an outage a little longer than that. */
const OUTAGE_MS = 13_000;

describe('starting deadline (catch-up window) across a server outage', () => {
  let server: DevServer | undefined;
  let h: Harness | undefined;
  after(async () => {
    if (server) process.kill(server.process.pid!, 'SIGCONT');
    await h?.close();
    await server?.stop();
  });

  it('fires late within the deadline, counts the fires beyond it as missed, and says so in the stats', async () => {
    server = await startDevServer({ cli: testTemporalCli(), ip: '127.0.0.1', port: await freePort() });
    h = await createHarness({ config: testConfig({ temporal: { address: server.address } }) });
    const harness = h;
    const job = await harness.submit({
      name: 'NOOP',
      parameters: {},
      metadata: { kind: 'Periodic', cron_spec: '* * * * * *', starting_deadline_seconds: 10, concurrency_policy: 'Allow' },
    });
    const executions = async () => {
      const response = await harness.request('GET', `/api/v1/jobs/${job.id}/executions?page_size=100`);
      return ((await response.json()) as { job: JobStats }[]).map((i) => i.job);
    };
    await waitFor(executions, (list) => list.some((e) => e.status === 'Success'), { what: 'a first execution' });
    assert.equal((await harness.stats(job.id)).missed, 0);

    // Freeze the whole server (as a stalled host would): no timer fires until it resumes.
    const frozenAt = Date.now();
    process.kill(server.process.pid!, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    process.kill(server.process.pid!, 'SIGCONT');
    const resumedAt = Date.now();

    const stats = await waitFor(
      () => harness.stats(job.id),
      (s) => (s.missed ?? 0) >= 1,
      { what: 'missed fires' },
    );
    // Fires older than the deadline when the server woke are missed; the rest of the outage's fires still run.
    const expectedMissed = Math.floor((resumedAt - frozenAt - 10_000) / 1000);
    assert.ok(Math.abs(stats.missed! - expectedMissed) <= 2, `missed ${stats.missed}, expected about ${expectedMissed}`);
    const nominal = (e: JobStats) => Date.parse(e.id.slice(25));
    const late = await waitFor(
      executions,
      (list) => list.filter((e) => nominal(e) > frozenAt + 4000 && nominal(e) < resumedAt - 1000).length >= 5,
      { what: 'the fires within the deadline to run late' },
    );
    for (const e of late.filter((x) => nominal(x) > frozenAt + 4000 && nominal(x) < resumedAt - 1000)) {
      assert.ok(e.enqueue_time * 1000 >= resumedAt - 1000, `${e.id} ran after the outage`);
    }
    assert.equal((await harness.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
  });
});
