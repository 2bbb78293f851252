import type { Client } from '@temporalio/client';
import { pool } from './processes.js';

export interface RunTimes {
  /** Workflow start (the job was accepted), activity start (a worker began it), workflow close; epoch ms. */
  enqueued: number;
  started: number;
  closed: number;
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

/** Server-side timestamps of each workflow (in the order of `ids`), read from its history after the run (not timed). */
export async function runTimes(client: Client, ids: readonly string[]): Promise<RunTimes[]> {
  const times: RunTimes[] = [];
  await pool(ids.length, 16, async (i) => {
    const history = await client.workflow.getHandle(ids[i]!).fetchHistory();
    const events = history.events ?? [];
    // A local activity has no task of its own: it starts within the first workflow task.
    const started = events.find((e) => e.activityTaskStartedEventAttributes) ?? events.find((e) => e.workflowTaskStartedEventAttributes);
    const closed = events[events.length - 1];
    times[i] = { enqueued: ms(events[0]?.eventTime), started: ms(started?.eventTime), closed: ms(closed?.eventTime) };
  });
  return times;
}
