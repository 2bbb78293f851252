import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { createJobLoggerFactory } from '../../src/logs/job-loggers.js';
import { startLogSweeper, sweeperTargets } from '../../src/logs/log-sweeper.js';

const DAY_MS = 24 * 3600 * 1000;

describe('a job logger sweeper whose work_dir does not exist (a typo)', () => {
  it('is reported (Harbor logs "getting outdated log files under <work_dir> failed" at every sweep), not silently a sweep of nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'jobservice-review-sweep-'));
    const baseDir = join(root, 'jobs');
    const typo = join(root, 'job'); // meant: jobs
    const path = join(root, 'config.yaml');
    writeFileSync(
      path,
      [
        'job_loggers:',
        `  - { name: FILE, level: INFO, settings: { base_dir: ${baseDir} }, sweeper: { duration: 1, settings: { work_dir: ${typo} } } }`,
        'loggers:',
        '  - { name: STD_OUTPUT }',
        '',
      ].join('\n'),
    );
    const config = loadConfig({ argv: ['-c', path], env: {} });
    // As the worker starts (src/worker/run-worker.ts): the job loggers' directories, then their sweepers.
    createJobLoggerFactory(config.job_loggers);
    const old = join(baseDir, '0123456789abcdef01234567.log');
    writeFileSync(old, 'a job that ended a week ago\n');
    const weekAgo = new Date(Date.now() - 7 * DAY_MS);
    utimesSync(old, weekAgo, weekAgo);

    const warnings: string[] = [];
    const stops = sweeperTargets(config.job_loggers).map((s) =>
      startLogSweeper(
        s.dir,
        s.days,
        (err) => warnings.push(`log sweep failed: ${(err as Error).message}`),
        async () => new Set<string>(),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await Promise.all(stops.map((stop) => stop()));

    assert.ok(existsSync(old), 'the week-old log stays: nothing sweeps base_dir');
    assert.deepEqual(warnings, [`log sweep failed: the sweeper's work_dir ${typo} does not exist: no logs are swept there`]);
  });
});
