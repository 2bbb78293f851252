import type { Client } from '@temporalio/client';

/** Ids per visibility query: a query's text stays small. */
const IDS_PER_QUERY = 100;

/**
 * Which of these workflow ids visibility lists under `clause`. The ids go into the query as they
 * are: only ids of the forms this service issues (checked job ids, a schedule's execution ids).
 */
export async function idsAmong(client: Client, ids: readonly string[], clause: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const batch = ids.slice(i, i + IDS_PER_QUERY);
    const query = `WorkflowId IN (${batch.map((id) => `'${id}'`).join(', ')}) AND ${clause}`;
    for await (const execution of client.workflow.list({ query })) found.add(execution.workflowId);
  }
  return found;
}
