import type { OpCommand } from '../shared/job-model.js';

/** How one run of the job's code ended. */
export type RunOutcome =
  | { kind: 'done' }
  /** `final`: no run of these parameters can succeed (they fail the job's schema): no retry. */
  | { kind: 'failed'; message: string; final?: boolean }
  | { kind: 'op'; op: OpCommand }
  /** A fan-out job's history grew long: the next run takes over (`continueAsNew`). */
  | { kind: 'continue' };

/** One attempt at a run: its outcome, or `queued` when the type's queue is paused (the run then waits for a slot). */
export type RunAttempt = RunOutcome | { kind: 'queued' };
