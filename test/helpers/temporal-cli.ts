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
