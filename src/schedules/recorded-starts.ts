/** Past this age an execution's start is taken as recorded, listed or not. */
export const SETTLED_AFTER_MS = 10 * 60_000;

/** A start a schedule has taken, as its describe lists it (`info.recentActions`). */
export interface RecordedStart {
  workflowId: string;
  /** When the schedule took the action (before the workflow's own start time). */
  takenAt: number;
}

/**
 * Whether the schedule has durably recorded the start of an execution. Until it has, the start may
 * be tried again (Temporal's scheduler starts from a local activity that is retried, and re-run if
 * the scheduler's workflow task fails), and with the execution deleted such a retry starts the same
 * fire once more under the same id. The schedule records its starts in order and lists the last
 * few, so an execution is recorded if it is listed, or if it started before the oldest one listed.
 * A schedule that no longer exists starts nothing: `recent` undefined means all are recorded. An
 * execution started long ago counts as recorded too: a retried start comes within seconds, and a
 * run the list cannot vouch for (a retry through the API, long after its fire) must not stay forever.
 */
export function isStartRecorded(
  recent: readonly RecordedStart[] | undefined,
  execution: { id: string; startedAt: number },
  now: number,
): boolean {
  if (recent === undefined || execution.startedAt < now - SETTLED_AFTER_MS) return true;
  if (recent.some((r) => r.workflowId === execution.id)) return true;
  if (recent.length === 0) return false;
  const oldest = Math.min(...recent.map((r) => r.takenAt));
  return execution.startedAt < oldest;
}
