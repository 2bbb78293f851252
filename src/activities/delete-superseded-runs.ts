import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { SupersededRunsInput } from './types.js';

const GRPC_NOT_FOUND = 5;

/**
 * Deletes the runs of a job a reset replaced: every run of its id but the current one, except the
 * earlier runs of a chain that continued as new (the job's own past). Its log stays. The current
 * run is read after the list, so a run started meanwhile (a retry) is not among those deleted.
 */
export async function deleteSupersededRuns(client: Client, input: SupersededRunsInput): Promise<number> {
  const { namespace } = client.options;
  // Job ids are the API's own (validated), never quotes.
  const query = `WorkflowId = '${input.workflowId}' AND ExecutionStatus != 'ContinuedAsNew'`;
  const listed: string[] = [];
  for await (const run of client.workflow.list({ query })) listed.push(run.runId);
  const { runId: current } = await client.workflow.getHandle(input.workflowId).describe();
  let deleted = 0;
  for (const runId of listed) {
    if (runId === current) continue;
    try {
      await client.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId: input.workflowId, runId } });
      deleted += 1;
    } catch (err) {
      if (!isGrpcServiceError(err) || err.code !== GRPC_NOT_FOUND) throw err;
    }
  }
  return deleted;
}
