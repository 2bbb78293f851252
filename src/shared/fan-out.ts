/**
 * A job that fans out: its plan (run by its activity) names one sub job per target, and the
 * workflow runs them as child workflows, at most `poolSize` at once. Pure: imported by workflow code.
 */
import type { RetryPolicy } from './job-model.js';

export interface FanOutTarget {
  /** What the target is called in the parent's results (a repository, a host, …). */
  target: string;
  /** The target's own parameters; absent when they are its name alone, under the plan's `targetKey`. */
  parameters?: Record<string, unknown>;
}

export interface FanOutPlan {
  childName: string;
  retry: RetryPolicy;
  /** The child type's concurrency limit, if it has one. */
  concurrency?: number;
  poolSize: number;
  targets: FanOutTarget[];
  /** Parameters every target's job gets, under its own: said once, so a plan of many targets stays small. */
  shared?: Record<string, unknown>;
  /**
   * A target without parameters of its own gets its name under this key (a batch job's `target`):
   * a plan is one activity result, at most 2 MB, and a name said twice per target halved how many fit.
   */
  targetKey?: string;
  /** A batch job keeps this many executions (with their reports); older ones are deleted as it ends. */
  reportHistory?: number;
  /** How the parent's progress check-in names its counters, and fields it always carries. */
  progress: { done: string; total: string; extra: Record<string, unknown> };
}

/** One target's outcome, as the parent's stats show it. */
export interface FanOutResult {
  job_id: string;
  status: string;
  /** The child's last check-in, when it was a JSON object (a summary). */
  summary?: Record<string, unknown>;
}

/** The parent's progress check-in: done/total, plus every numeric field of the children's summaries, summed. */
export function fanOutProgress(plan: FanOutPlan, results: Record<string, FanOutResult>, running = 0): Record<string, unknown> {
  const finished = Object.values(results);
  const sums: Record<string, number> = {};
  for (const { summary } of finished) {
    for (const [key, value] of Object.entries(summary ?? {})) if (typeof value === 'number') sums[key] = (sums[key] ?? 0) + value;
  }
  const failed = finished.filter((r) => r.status !== 'Success').length;
  return {
    ...sums,
    [plan.progress.done]: finished.length,
    [plan.progress.total]: plan.targets.length,
    failed,
    running,
    ...plan.progress.extra,
  };
}

export function parseSummary(checkIn: string | undefined): Record<string, unknown> | undefined {
  if (!checkIn?.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(checkIn) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the parent keeps of a target's summary: its counts and short values, which progress sums
 * and stats show. Reports and event lists stay with the target's job (/report and /metrics read
 * them there); thousands of them in the parent's memo would pass Temporal's 2 MB and end the job.
 */
export function summaryScalars(summary: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!summary) return undefined;
  const kept = Object.entries(summary).filter(
    ([, v]) => typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 256),
  );
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/**
 * Sets `key` as an own property: target names are any string, and `results.__proto__ = …` would
 * set the object's prototype rather than record the target (nor does `in` tell an own key from
 * `constructor` or `toString`, which every object has).
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `record[key]` if it is the record's own, else undefined. */
export function getOwn<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A target's own parameters: as planned, or its name under the plan's targetKey. */
export function targetParameters(plan: Pick<FanOutPlan, 'targetKey'>, target: FanOutTarget): Record<string, unknown> {
  if (target.parameters) return target.parameters;
  return plan.targetKey ? { [plan.targetKey]: target.target } : {};
}
