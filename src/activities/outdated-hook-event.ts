import type { Client } from '@temporalio/client';
import { isWorkflowNotFound } from '../temporal/workflow-not-found.js';
import type { HookEvent } from '../shared/hook-event.js';
import { resolveJobId } from '../shared/job-id.js';
import { jobView } from '../views/job-view.js';

/**
 * The job's revision when another run of it than `handedOverBy` (the run whose events these are)
 * has a newer one than the event's: an API retry has begun since, and the old revision's status is
 * news to no one. Harbor's hook agent abandons such a retried event (`isOutdated`: the job's ack
 * holds a later revision), so a receiver never hears an old run's status after the new run's. A
 * job that is gone, or unreadable as a job, outdates nothing.
 */
export async function newerRevision(client: Client, event: HookEvent, handedOverBy: string): Promise<number | undefined> {
  const id = resolveJobId(event.job_id);
  if (id === undefined) return undefined;
  try {
    const description = await client.workflow.getHandle(id).describe();
    if (description.runId === handedOverBy) return undefined;
    const revision = jobView(description.memo, description.workflowId, description.startTime)?.state.revision;
    return revision !== undefined && revision > event.metadata.revision ? revision : undefined;
  } catch (err) {
    if (isWorkflowNotFound(err)) return undefined;
    throw err;
  }
}
