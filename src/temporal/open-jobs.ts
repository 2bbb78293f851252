import type { Client } from '@temporalio/client';

/** Ids per visibility query: a query's text stays small. */
const IDS_PER_QUERY = 100;

/** Of these job ids (checked ones: they go into the query as they are), those whose workflow is still open, as visibility has them. */
export async function openJobs(client: Client, ids: readonly string[]): Promise<ReadonlySet<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const batch = ids.slice(i, i + IDS_PER_QUERY);
    const query = `WorkflowId IN (${batch.map((id) => `'${id}'`).join(', ')}) AND ExecutionStatus = 'Running'`;
    for await (const execution of client.workflow.list({ query })) found.add(execution.workflowId);
  }
  return found;
}
