import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { mapLimit } from '../process/limits.js';
import { UpstreamJobIdKey } from '../shared/search-attributes.js';
import { stopSignal } from '../workflows/job-messages.js';
import type { ReplacedTargetsInput } from './types.js';

const POLL_MS = 500;

/**
 * A fan-out job's run that an operator's reset started plans and starts its targets afresh, while
 * the targets the replaced run started go on (they outlive their parent) and would run beside the
 * new ones: each gets the job's stop, and the new run waits until they have ended (or `waitMs`).
 * Returns how many were stopped.
 */
export async function windUpReplacedTargets(client: Client, input: ReplacedTargetsInput): Promise<number> {
  // Job ids are the API's own (validated), never quotes.
  const query = `${UpstreamJobIdKey.name} = '${input.jobId}' AND ExecutionStatus = 'Running'`;
  const replaced: { workflowId: string; runId: string }[] = [];
  for await (const child of client.workflow.list({ query })) {
    const parent = child.parentExecution ?? (await client.workflow.getHandle(child.workflowId, child.runId).describe()).parentExecution;
    // The job's sub jobs (a fan-out's targets) have it as their parent; this run's own are none yet.
    if (parent?.workflowId === input.jobId && parent.runId !== input.runId)
      replaced.push({ workflowId: child.workflowId, runId: child.runId });
  }
  await mapLimit(replaced, 8, (target) =>
    client.workflow
      .getHandle(target.workflowId, target.runId)
      .signal(stopSignal)
      .catch((err: unknown) => {
        // One that ended meanwhile has nothing left to stop.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }),
  );
  const deadline = Date.now() + input.waitMs;
  let open = replaced;
  while (open.length > 0 && Date.now() < deadline) {
    Context.current().heartbeat();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const still = await Promise.all(
      open.map(async (target) =>
        client.workflow
          .getHandle(target.workflowId, target.runId)
          .describe()
          .then(
            (d) => d.status.name === 'RUNNING',
            () => false,
          ),
      ),
    );
    open = open.filter((_, i) => still[i]);
  }
  return replaced.length;
}
