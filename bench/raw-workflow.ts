import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1 minute' });

/** The engine's own floor: one workflow, one no-op activity. */
export async function rawNoopWorkflow(): Promise<void> {
  await noop();
}
