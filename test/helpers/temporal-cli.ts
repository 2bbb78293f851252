import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { testTemporalCli } from './harness.js';

/**
 * Runs the Temporal CLI the test runner located, against `address`, as an operator would; a
 * non-zero exit fails the test with the CLI's own words. Returns what it printed.
 */
export function temporalCli(address: string, ...args: string[]): string {
  const result = spawnSync(testTemporalCli(), [...args, '--address', address], { encoding: 'utf8' });
  assert.equal(result.status, 0, `temporal ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** `temporal workflow reset` as an operator runs it (the Web UI's reset does the same): the job runs again under its id. */
export function resetWorkflow(
  address: string,
  id: string,
  type: 'FirstWorkflowTask' | 'LastWorkflowTask' = 'FirstWorkflowTask',
  reason = 'operator re-run',
): string {
  return temporalCli(address, 'workflow', 'reset', '--workflow-id', id, '--type', type, '--reason', reason);
}

/**
 * `temporal schedule update` as an operator runs it: the whole action again (the schedule's
 * workflow id, task queue and the ScheduledJob type), `cron`, and `flags` (`--input`, policies…).
 */
export function updateScheduleWithCli(address: string, taskQueue: string, id: string, cron: string, ...flags: string[]): string {
  return temporalCli(
    address,
    ...['schedule', 'update', '--schedule-id', id, '--cron', cron],
    ...['--workflow-id', id, '--task-queue', taskQueue, '--type', 'ScheduledJob'],
    ...flags,
  );
}
