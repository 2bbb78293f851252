import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../src/config/config-schema.js';

/**
 * A worker in a process of its own (`npm run worker`), so a test can kill it hard; with
 * `testJobs`, one that runs the test jobs beside the real ones (test-job-worker.ts).
 */
export function spawnWorkerProcess(
  config: Config,
  dir: string,
  extra: Record<string, unknown> = {},
  { testJobs = false } = {},
): ChildProcess {
  const configPath = join(dir, 'worker.yaml');
  writeFileSync(
    configPath,
    JSON.stringify({
      job_loggers: config.job_loggers,
      loggers: [{ name: 'STD_OUTPUT', level: 'ERROR' }],
      worker_pool: { workers: 4 },
      // A fleet shares its job configuration: the type limits hold the same in every process.
      job: { concurrency_limits: config.job.concurrency_limits },
      ...extra,
    }),
  );
  const main = testJobs ? 'test/helpers/test-job-worker.ts' : 'src/worker/main.ts';
  return spawn(process.execPath, ['--import', 'tsx', main, '-c', configPath], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: config.temporal.address,
      JOB_SERVICE_TASK_QUEUE: config.temporal.task_queue,
    },
  });
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
