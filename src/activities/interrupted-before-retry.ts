import type { Client } from '@temporalio/client';
import { OpCommand } from '../shared/job-model.js';
import { cancelSignal, stopSignal } from '../workflows/job-messages.js';

/** How many pages of 100 events back a retried run looks for its own scheduling before it gives up looking. */
const MAX_PAGES = 20;

/**
 * A stop or cancel given since this run was scheduled, read from the workflow's history. A run
 * comes back as a new attempt after its worker was lost; a stop sent meanwhile is in the history at
 * once, but the workflow may not have taken it yet (its task waits on the lost worker's sticky
 * queue), so the retried run would start the job's code again after the stop had answered 204.
 */
export async function interruptedBeforeRetry(
  client: Client,
  execution: { workflowId: string; runId: string },
  activityId: string,
): Promise<OpCommand | undefined> {
  let found: OpCommand | undefined;
  let nextPageToken: Uint8Array | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace: client.options.namespace,
      execution,
      maximumPageSize: 100,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const event of answer.history?.events ?? []) {
      // Newest first: the run's own scheduling ends the search; what came before it is not for this run.
      if (event.activityTaskScheduledEventAttributes?.activityId === activityId) return found;
      const signal = event.workflowExecutionSignaledEventAttributes?.signalName;
      // The first stop or cancel given wins, as in the workflow (`ask`); reading backwards, the last one seen.
      if (signal === stopSignal.name) found = OpCommand.Stop;
      else if (signal === cancelSignal.name || event.workflowExecutionCancelRequestedEventAttributes) found = OpCommand.Cancel;
    }
    nextPageToken = answer.nextPageToken?.length ? answer.nextPageToken : undefined;
    if (!nextPageToken) break;
  }
  return found;
}
