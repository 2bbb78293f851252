/** Past this age an execution's start is taken as recorded, listed or not (a backstop, see below). */
export const SETTLED_AFTER_MS = 10 * 60_000;
/** Room for the clocks of the host that started a run and the scheduler's host to disagree. */
const CLOCK_SKEW_MS = 2_000;

/** A start a schedule has taken, as its describe lists it (`info.recentActions`). */
export interface RecordedStart {
  workflowId: string;
  /** When the start returned to the scheduler, so after the run's own start time. */
  takenAt: number;
}

/**
 * Whether the schedule has durably recorded the start of an execution. Until it has, the start may
 * be tried again (Temporal's scheduler starts from a local activity that is retried, and re-run if
 * the scheduler's workflow task fails), and with the execution deleted such a retry starts the same
 * fire once more under the same id. The scheduler starts one fire at a time and records each once
 * its start has returned, listing the last few: an execution is recorded if it is listed, or if it
 * started before the oldest one listed was recorded (any start not yet recorded came after that).
 * A schedule that no longer exists starts nothing: `recent` undefined means all are recorded.
 * Past SETTLED_AFTER_MS an execution counts as recorded whatever the list says, so that one the
 * list cannot vouch for (the later run of a chain that continued as new, after its fire left the
 * list) does not hold up every prune; a scheduler still retrying a start that late is the risk taken.
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
  return execution.startedAt < oldest - CLOCK_SKEW_MS;
}
