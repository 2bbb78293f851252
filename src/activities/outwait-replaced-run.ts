import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import type { ReplacedTargetsInput } from './types.js';

/**
 * A run's activity a worker still has (temporal.api.enums.v1.PendingActivityState STARTED and
 * CANCEL_REQUESTED, without importing the proto package): its run's end reaches it only with a
 * heartbeat's answer.
 */
const WORKING = new Set<number>([2, 3]);
/** temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW. */
const RESET_WORKFLOW = 20;
const POLL_MS = 1000;

/**
 * An operator's reset ends the job's run, not the run's activity on its worker: that learns of it
 * with its next heartbeat and then has the stop grace, working beside a re-run that started at
 * once (a repository job's deletes twice, over `concurrency.deletes`). The reset run waits here,
 * before its own run, until `waitMs` after the replaced run ended, and only when that run's
 * activity was started and unfinished then. Returns how long it waited (ms).
 */
export async function outwaitReplacedRun(client: Client, input: ReplacedTargetsInput): Promise<number> {
  const started = Date.now();
  const candidates = new Set<string>();
  const base = await resetBaseRunId(client, input);
  if (base) candidates.add(base);
  // The run the reset ended is the reset's base, unless the operator reset from an earlier run.
  // Job ids are the API's own (validated), never quotes.
  const since = new Date(started - input.waitMs - 60_000).toISOString();
  const query = `WorkflowId = '${input.jobId}' AND ExecutionStatus = 'Terminated' AND CloseTime > '${since}'`;
  for await (const run of client.workflow.list({ query })) candidates.add(run.runId);
  candidates.delete(input.runId);
  let until = 0;
  for (const runId of candidates) {
    const described = await client.workflow
      .getHandle(input.jobId, runId)
      .describe()
      .catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      });
    if (described?.status.name !== 'TERMINATED' || !described.closeTime) continue;
    const working = described.raw.pendingActivities?.some((a) => a.activityType?.name === 'executeJob' && WORKING.has(a.state ?? 0));
    if (working) until = Math.max(until, described.closeTime.getTime() + input.waitMs);
  }
  while (Date.now() < until) {
    Context.current().heartbeat();
    await Context.current().sleep(Math.min(POLL_MS, until - Date.now()));
  }
  return Date.now() - started;
}

/** The run a reset started from, as the reset run's own history records it. */
async function resetBaseRunId(client: Client, input: ReplacedTargetsInput): Promise<string | undefined> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: input.jobId, runId: input.runId },
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const event of page.history?.events ?? []) {
      const failed = event.workflowTaskFailedEventAttributes;
      if (failed?.cause === RESET_WORKFLOW && failed.baseRunId) return failed.baseRunId;
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return undefined;
}
