import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

describe('job.max_run_hours: the longest single run of a job', () => {
  let h: Harness;
  let metricsUrl: string;
  before(async () => {
    const port = await freePort();
    h = await createHarness({
      config: testConfig({
        metric: { enabled: true, port, path: '/metrics' },
        // 0.0005 h = 1.8 s
        job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, max_run_hours: 0.0005 },
      }),
    });
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
  });
  after(() => h.close());

  it('a run past the cap fails, the job’s retries apply, and it ends Error saying why: counted as a failure, never as a stop', async () => {
    const job = await h.submit({ name: 'TEST_OVERRUN', parameters: { hold_ms: 600_000 }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 60_000);
    assert.equal(done.status, 'Error');
    assert.equal(done.fails, 2);
    assert.match(done.last_error ?? '', /overran job\.max_run_hours \(0\.0005 h\)/);
    // The last run hears of its overrun at its next heartbeat, after the job has ended.
    const metrics = await waitFor(
      async () => (await fetch(metricsUrl)).text(),
      (text) => /harbor_jobservice_task_total\{type="TEST_OVERRUN",status="fail"\} 2/.test(text),
      { what: 'both runs counted as failed' },
    );
    assert.doesNotMatch(metrics, /harbor_jobservice_task_total\{type="TEST_OVERRUN",status="stop"\}/);
    const log = readFileSync(join(h.logDir, `${job.id}.log`), 'utf8');
    assert.equal(log.split('\n').filter((line) => line.includes('run of TEST_OVERRUN started')).length, 2, log);
    assert.equal(log.split('\n').filter((line) => line.includes('overran job.max_run_hours (0.0005 h) and has failed')).length, 2, log);
    assert.doesNotMatch(log, /received stop/);
  });
});
