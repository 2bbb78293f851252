import type { Client } from '@temporalio/client';
import { readJob } from '../api/job-reads.js';
import type { JobState } from '../shared/job-model.js';
import type { ClosedTargetInput } from './types.js';

/**
 * A fan-out's target an operator cancelled or terminated (Web UI, CLI) ends with a failure that
 * carries none of its state: the parent reads it as GET /jobs/{target} shows it (its memo, or
 * its run's last heartbeat), so the job's results keep what the target reported.
 */
export async function readClosedTarget(client: Client, input: ClosedTargetInput): Promise<JobState | undefined> {
  try {
    return (await readJob(client, input.jobId)).state;
  } catch {
    // Deleted meanwhile, or never a job's: the result says its status only, as before.
    return undefined;
  }
}
