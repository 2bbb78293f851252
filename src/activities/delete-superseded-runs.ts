import { ApplicationFailure } from '@temporalio/activity';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { SupersededRunsInput } from './types.js';

const GRPC_NOT_FOUND = 5;

/**
 * Deletes the runs of a job a reset replaced: every run of its id but the current one, except the
 * earlier runs of a chain that continued as new (the job's own past). Its log stays. Fails while
 * visibility lists none yet, so the activity's retries wait for it.
 */
export async function deleteSupersededRuns(client: Client, input: SupersededRunsInput): Promise<number> {
  const { namespace } = client.options;
  // Ids and run ids are Temporal's or the API's own (validated), never quotes.
  const query = `WorkflowId = '${input.workflowId}' AND RunId != '${input.runId}' AND ExecutionStatus != 'ContinuedAsNew'`;
  let deleted = 0;
  for await (const run of client.workflow.list({ query })) {
    try {
      await client.workflowService.deleteWorkflowExecution({
        namespace,
        workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      });
    } catch (err) {
      if (!isGrpcServiceError(err) || err.code !== GRPC_NOT_FOUND) throw err;
    }
    deleted += 1;
  }
  if (deleted === 0) throw ApplicationFailure.retryable(`visibility lists no run of ${input.workflowId} that a reset replaced yet`);
  return deleted;
}
