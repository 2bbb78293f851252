import { isFinal, type JobState } from '../shared/job-model.js';

/** The sub job ids a running job's memo carries; GET reads the rest with the `stats` query. */
export const SUB_JOBS_IN_MEMO = 100;

/**
 * The state as the memo records it. Every upsert records the whole memo in history, so lists that
 * grow with the job stay out of it until the job has ended: a fan-out job's per-target lists (the
 * `stats` query has them live), and a job's sub job ids past the first SUB_JOBS_IN_MEMO. Recorded
 * whole, n launches recorded O(n²): Temporal terminated a parent at about 1,860 sub jobs.
 */
export function memoState(state: JobState, fanOut: boolean, capSubJobs: boolean): JobState {
  if (isFinal(state.status)) return { ...state };
  const { results, sub_jobs, ...small } = state;
  if (fanOut) return { ...small, ...(results ? { results: {} } : {}), ...(sub_jobs ? { sub_jobs: [] } : {}) };
  if (!capSubJobs || sub_jobs === undefined || sub_jobs.length <= SUB_JOBS_IN_MEMO) return { ...state };
  return { ...state, sub_jobs: sub_jobs.slice(0, SUB_JOBS_IN_MEMO), sub_jobs_more: true };
}
