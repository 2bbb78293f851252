import type { Client, WorkflowExecutionInfo } from '@temporalio/client';

/**
 * A listed execution as it is now. Visibility learns of a close a little after the execution
 * itself: one it still shows running is described (which reads the execution). Undefined when
 * that describe fails (the execution has gone meanwhile).
 */
export async function executionNow(client: Client, listed: WorkflowExecutionInfo): Promise<Omit<WorkflowExecutionInfo, 'raw'> | undefined> {
  if (listed.status.name !== 'RUNNING') return listed;
  return client.workflow
    .getHandle(listed.workflowId, listed.runId)
    .describe()
    .catch(() => undefined);
}
