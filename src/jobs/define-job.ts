import type { z } from 'zod';
import type { FanOutPlan } from '../shared/fan-out.js';
import type { BatchMetrics } from './batch/define-batch-job.js';
import type { JobContext } from './job-context.js';
import { JOB_NAME_PATTERN } from '../shared/job-model.js';
import { RETRY_DEFAULTS } from '../shared/start-input.js';

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  /** Runs allowed in total before the job ends in Error (Harbor's MaxFails). @defaultValue 4 */
  maxFails?: number;
  /** Whether a failed run is retried at all. @defaultValue true */
  shouldRetry?: boolean;
  /** First delay between failed runs; doubles each time. @defaultValue 1000 */
  retryInitialIntervalMs?: number;
  /** Cap on the delay between failed runs. @defaultValue 300000 */
  retryMaxIntervalMs?: number;
  /**
   * Harbor's MaxCurrency: at most this many runs of the type at once across every worker; more
   * wait Pending and start in submit order (the type's JobQueue workflow counts). Absent: no limit.
   */
  maxConcurrency?: number;
  /**
   * A short job: its runs go as local activities (no activity task of their own, about a third
   * fewer server round trips) under a hard cap. A run that overruns the cap fails; a stop reaches
   * a running short job only once its run has ended. `applies` picks the submissions that are
   * short (NOOP: only a short wait); absent, all are.
   */
  short?: { capMs: number; applies?(params: z.infer<S>): boolean };
  /** The parameters' schema: Harbor's Validate. Checked at submit time and again before each run. */
  params: S;
  run(ctx: JobContext, params: z.infer<S>): Promise<void>;
  /**
   * The check-in of a run stopped before its code started again after its worker was lost, from
   * what the lost attempt saved (`ctx.saveProgress`): its report, which would otherwise be lost.
   */
  stoppedBeforeStart?(params: z.infer<S>, saved: unknown): string | undefined;
  /**
   * A job that fans out: `plan` (run instead of `run`, in the job's activity) names one sub job of
   * the `child` job per target; the workflow runs them as child workflows, `poolSize` at once.
   */
  fanOut?: {
    child: string;
    plan(ctx: JobContext, params: z.infer<S>): Promise<Pick<FanOutPlan, 'poolSize' | 'targets' | 'progress' | 'reportHistory' | 'shared'>>;
  };
  /** A batch job: its targets' reports are gauges on the API's /metrics. */
  batch?: BatchMetrics;
}

export function defineJob<S extends z.ZodType>(definition: JobDefinition<S>): JobDefinition<S> {
  if (!JOB_NAME_PATTERN.test(definition.name)) {
    throw new Error(`job name ${JSON.stringify(definition.name)} must be upper snake case`);
  }
  // Harbor's job interface: "If it is set to 0, then default value 4 is used."
  const maxFails = definition.maxFails === undefined || definition.maxFails === 0 ? RETRY_DEFAULTS.maxFails : definition.maxFails;
  if (!Number.isInteger(maxFails) || maxFails < 1) {
    throw new Error(`job ${definition.name}: maxFails must be a positive integer (0 for the default, ${RETRY_DEFAULTS.maxFails})`);
  }
  const { maxConcurrency } = definition;
  if (maxConcurrency !== undefined && (!Number.isInteger(maxConcurrency) || maxConcurrency < 1)) {
    throw new Error(`job ${definition.name}: maxConcurrency must be a positive integer`);
  }
  return Object.freeze({ ...definition, maxFails });
}
