import assert from 'node:assert/strict';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LoggerConfig } from '../../src/config/logger-config.js';
import { createServiceLogger } from '../../src/logs/service-logger.js';
import { sweepLogs } from '../../src/logs/log-sweeper.js';
import { idsAmong } from '../../src/temporal/ids-among.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

const DAY_MS = 24 * 3600 * 1000;

describe("the service logger's sweeper and job logs", () => {
  let h: Harness;
  before(async () => {
    // No worker: a submitted job stays open (Pending), standing for a fan-out parent waiting days on its targets.
    h = await createHarness({ worker: false, config: testConfig() });
  });
  after(async () => {
    await h.close();
  });

  it("the service's FILE logger sharing the job log directory never sweeps the log of a job whose workflow is open", async () => {
    const open = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
    const log = join(h.logDir, `${open.id}.log`);
    writeFileSync(log, 'planned 40 targets\n');
    const old = new Date(Date.now() - 3 * DAY_MS);
    utimesSync(log, old, old);
    // The worker's own job log sweep keeps it (the documented guarantee).
    const unfinished = (ids: readonly string[]) => idsAmong(h.client, ids, "ExecutionStatus = 'Running'");
    await waitFor(
      () => h.client.workflow.count(`WorkflowId = '${open.id}'`),
      (c) => c.count === 1,
      { what: 'the job listed' },
    );
    assert.deepEqual(await sweepLogs(h.logDir, 1, Date.now(), unfinished), []);
    assert.ok(existsSync(log));
    // An API process starts with Harbor's FILE service logger in the same directory (src/api/main.ts).
    const serviceLoggers = [
      LoggerConfig.parse({ name: 'STD_OUTPUT', level: 'ERROR' }),
      LoggerConfig.parse({
        name: 'FILE',
        level: 'INFO',
        settings: { base_dir: h.logDir, filename: 'job_service.log' },
        sweeper: { duration: 1 },
      }),
    ];
    // A log of no job, long untouched, that the sweep certainly takes: once it has gone, the sweep has run.
    const stale = join(h.logDir, 'stale.log');
    writeFileSync(stale, 'old\n');
    utimesSync(stale, old, old);
    createServiceLogger(serviceLoggers, 'api');
    await waitFor(
      async () => existsSync(stale),
      (present) => !present,
      { what: "the service logger's sweep at start" },
    );
    assert.ok(existsSync(log), `the log of ${open.id}, whose workflow is open, was swept by the service logger's sweeper`);
    const served = await h.request('GET', `/api/v1/jobs/${open.id}/log`);
    assert.equal(served.status, 200);
  });
});

describe("the job logger's sweeper and saved batch files", () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig() });
  });
  after(async () => {
    await h.close();
  });

  it('the FILE sweeper removes the saved files of jobs gone from Temporal along with their logs (nothing else ever does)', async () => {
    const job = await h.submit({ name: 'TEST_BATCH', parameters: { count: 2 }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(job.id, ['Success']);
    const targets = Object.values(done.results ?? {}).map((r) => (r as { job_id: string }).job_id);
    assert.equal(targets.length, 2);
    for (const t of targets) {
      await waitFor(
        () => h.request('GET', `/api/v1/jobs/${t}/files/result.txt`),
        (r) => r.status === 200,
        { what: `the file of ${t}` },
      );
    }
    // Temporal's namespace retention deletes closed workflows; here, at once.
    for (const id of [job.id, ...targets]) {
      await h.client.workflowService.deleteWorkflowExecution({
        namespace: h.client.options.namespace,
        workflowExecution: { workflowId: id },
      });
    }
    // Days later: every log and file of these jobs is older than the sweeper's duration.
    const old = new Date(Date.now() - 3 * DAY_MS);
    for (const id of [job.id, ...targets]) {
      const log = join(h.logDir, `${id}.log`);
      if (existsSync(log)) utimesSync(log, old, old);
    }
    for (const t of targets) {
      utimesSync(join(h.logDir, 'files', t, 'result.txt'), old, old);
      utimesSync(join(h.logDir, 'files', t), old, old);
    }
    const unfinished = (ids: readonly string[]) => idsAmong(h.client, ids, "ExecutionStatus = 'Running'");
    await sweepLogs(h.logDir, 1, Date.now(), unfinished);
    assert.deepEqual(
      [job.id, ...targets].filter((id) => existsSync(join(h.logDir, `${id}.log`))),
      [],
      'the old logs are swept',
    );
    const left = targets.filter((t) => existsSync(join(h.logDir, 'files', t)));
    assert.deepEqual(left, [], `files of jobs gone for days are never removed: ${JSON.stringify(readdirSync(join(h.logDir, 'files')))}`);
  });
});
