import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createExecuteJob } from '../../src/activities/execute-job.js';
import { defineJob } from '../../src/jobs/define-job.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { createJobLoggerFactory } from '../../src/logs/job-loggers.js';
import { JobMetrics } from '../../src/metrics/job-metrics.js';
import { OpCommand } from '../../src/shared/job-model.js';
import { BackgroundWork } from '../../src/process/background-work.js';

it('a run that returns before its workflow says why it was cancelled is neither interrupted nor counted as abandoned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'late-answer-'));
  let finish!: () => void;
  const job = defineJob({
    name: 'ENDS_ON_ITS_OWN',
    params: z.object({}).strict(),
    // Ignores its signal: returns when the test says.
    run: () => new Promise<void>((resolve) => (finish = resolve)),
  });
  let answer!: (command: OpCommand) => void;
  let asked!: () => void;
  const wasAsked = new Promise<void>((resolve) => (asked = resolve));
  const handle = {
    // A busy workflow worker: the "stop or cancel?" query is answered only once the run has returned.
    query: () => {
      asked();
      return new Promise<OpCommand>((resolve) => (answer = resolve));
    },
    executeUpdate: async () => undefined,
  };
  const metrics = new JobMetrics({ node: 'n', pool: 'p', workers: 1 });
  const stopGraceMs = 20;
  const executeJob = createExecuteJob({
    background: new BackgroundWork(),
    registry: createJobRegistry([job]),
    client: { workflow: { getHandle: () => handle } } as never,
    loggers: createJobLoggerFactory([{ name: 'FILE', level: 'DEBUG', settings: { base_dir: dir } }]),
    properties: {},
    checkinMinIntervalMs: 100,
    heartbeatIntervalMs: 1000,
    runningReportDelayMs: 10_000,
    metrics,
    gates: async () => undefined,
    stopGraceMs,
  });
  const env = new MockActivityEnvironment();
  const id = 'aaaaaaaaaaaaaaaaaaaaaaaa';
  const running = env.run(executeJob, { id, name: 'ENDS_ON_ITS_OWN', parameters: {}, revision: 1 } as never);
  await new Promise((resolve) => setImmediate(resolve));
  env.cancel();
  await wasAsked;
  finish();
  const result = (await running) as { outcome: string };
  assert.equal(result.outcome, 'done');
  answer(OpCommand.Stop);
  // Past the grace period, measured from the answer: an abandon would have been counted by now.
  await new Promise((resolve) => setTimeout(resolve, stopGraceMs * 10));
  assert.match(await metrics.render(), /harbor_jobservice_abandoned_runs 0/);
  const log = readFileSync(join(dir, `${id}.log`), 'utf8');
  assert.doesNotMatch(log, /received stop|abandoned/, log);
  rmSync(dir, { recursive: true, force: true });
});
