import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1 minute' });

/** The engine's own floor: one workflow, one no-op activity. */
export async function rawNoopWorkflow(): Promise<void> {
  await noop();
}

/** The same work as a local activity: no activity task, its result a marker in the workflow task. */
export async function rawLocalWorkflow(): Promise<void> {
  await local.noop();
}
