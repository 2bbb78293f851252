import { proxyActivities, proxyLocalActivities, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { JobStatusKey } from '../src/shared/search-attributes.js';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1 minute' });
const localShaped = proxyLocalActivities<{ noopShaped(): Promise<{ outcome: string }> }>({ startToCloseTimeout: '1 minute' });

/** The engine's own floor: one workflow, one no-op activity. */
export async function rawNoopWorkflow(): Promise<void> {
  await noop();
}

/** The same work as a local activity: no activity task, its result a marker in the workflow task. */
export async function rawLocalWorkflow(): Promise<void> {
  await local.noop();
}

/**
 * A diagnostic (`shape:<parts>` in bench/interleaved.ts): the
 * local-activity workflow carrying what a NOOP job carries — its input as the argument, a memo with
 * input and state, the three job search attributes and a summary at start; a memo and JobStatus
 * upsert and the state as its result at the end — and none of the job's own code.
 */
export async function rawJobShapedWorkflow(input: {
  enqueueTime: number;
  upserts?: boolean;
  upsertMemo?: boolean;
  upsertStatus?: boolean;
}): Promise<unknown> {
  const outcome = await localShaped.noopShaped();
  const state = { status: 'Success', revision: input.enqueueTime, update_time: input.enqueueTime, fails: 0, outcome };
  if (input.upserts || input.upsertMemo) upsertMemo({ state });
  if (input.upserts || input.upsertStatus) upsertSearchAttributes([{ key: JobStatusKey, value: 'Success' }]);
  return input.upserts ? state : undefined;
}
