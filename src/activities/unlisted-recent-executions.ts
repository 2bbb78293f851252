import { ScheduleNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { isWorkflowNotFound } from '../temporal/workflow-not-found.js';

/** Older fires than this are in visibility by now, and most are long deleted: not worth a describe each. */
const RECENT_MS = 5 * 60_000;

/**
 * The executions a periodic job's schedule started lately that a visibility listing left out, each
 * as the server has it. Visibility trails the server, by seconds on a loaded one, and the fire just
 * before the ending one is the likeliest to be missing; once the schedule is paused no later
 * execution comes to prune it, and the job keeps one beyond its limit for good. A fire already
 * deleted (a pruned one stays in the schedule's recent actions) is not found and left out. Not a
 * schedule (a parent job's id), or gone: nothing.
 */
export async function unlistedRecentExecutions(
  client: Client,
  scheduleId: string,
  listed: readonly WorkflowExecutionInfo[],
  selfId: string,
): Promise<WorkflowExecutionInfo[]> {
  let recent: string[];
  try {
    const { info } = await client.schedule.getHandle(scheduleId).describe();
    const since = Date.now() - RECENT_MS;
    recent = info.recentActions.filter((a) => a.takenAt.getTime() >= since).map((a) => a.action.workflow.workflowId);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return [];
    throw err;
  }
  const seen = new Set([selfId, ...listed.map((r) => r.workflowId)]);
  const found: WorkflowExecutionInfo[] = [];
  for (const id of new Set(recent)) {
    if (seen.has(id)) continue;
    try {
      const described = await client.workflow.getHandle(id).describe();
      found.push({ ...described, raw: described.raw.workflowExecutionInfo ?? {} });
    } catch (err) {
      if (!isWorkflowNotFound(err)) throw err;
    }
  }
  return found;
}
