import { format } from 'node:util';
import { z } from 'zod';
import { defineJob, type JobDefinition } from '../define-job.js';
import type { JobContext } from '../job-context.js';
import {
  checkEventReason,
  checkGaugeDefinitions,
  checkReport,
  checkSummarySize,
  type GaugeDefinition,
  type ReportBody,
  type TargetEvent,
} from './report.js';

/** What one target's run gets besides the job context. */
export interface TargetContext extends JobContext {
  readonly target: string;
  /** The batch execution (the parent job) this target belongs to. */
  readonly executionId: string;
  /** Results as gauges, checked against the declared ones; a later report replaces an earlier one. */
  report(results: ReportBody): void;
  /** A notable event; `reason` in UpperCamelCase. */
  /** `args` fill the message's `%s` (and `%d`, `%j`) in turn, as batch-job-controller's event endpoint does. */
  event(reason: string, message: string, options?: { warning?: boolean; args?: unknown[] }): void;
}

/** What a target's job checks in when it ends; the parent's results carry it as the target's summary. */
export interface TargetSummary {
  report: ReportBody;
  events: TargetEvent[];
  files: string[];
}

/** How the API exposes a batch job's reports as Prometheus gauges. */
export interface BatchMetrics {
  prefix: string;
  gauges: GaugeDefinition[];
  /** Repeat the newest finished execution's series with `execution_id="latest"`. */
  latestMetricsLabel: boolean;
}

export interface BatchJobSpec<S extends z.ZodObject> {
  name: string;
  params: S;
  gauges: GaugeDefinition[];
  /** Prometheus names are `<prefix>_<suffix>`. @defaultValue the job name in lower case */
  metricsPrefix?: string;
  latestMetricsLabel?: boolean;
  /** Targets at once unless a job says otherwise (`pool_size`). @defaultValue 4 */
  poolSize?: number;
  /** Executions whose reports, files and series are kept (`report_history`). @defaultValue 3 */
  reportHistory?: number;
  /** A target's runs before it counts as failed. @defaultValue 1 */
  targetMaxFails?: number;
  listTargets(ctx: JobContext, params: z.infer<S>): Promise<string[]>;
  runTarget(ctx: TargetContext, params: z.infer<S>): Promise<void>;
}

/**
 * A batch job (seed 002): the job lists its targets and runs one child job per target,
 * `pool_size` at once; each target reports gauges, events and files. Defines two jobs: `<name>`,
 * the execution, and `<name>_TARGET`, one target's run (a job of its own, upstream = the execution).
 */
export function defineBatchJob<S extends z.ZodObject>(spec: BatchJobSpec<S>): [JobDefinition, JobDefinition] {
  checkGaugeDefinitions(spec.name, spec.gauges, spec.metricsPrefix ?? spec.name.toLowerCase());
  const childName = `${spec.name}_TARGET`;
  const executionParams = spec.params.extend({
    pool_size: z.number().int().min(1).max(1000).optional(),
    report_history: z.number().int().min(1).max(100).optional(),
  });
  const targetParams = z.object({ target: z.string().min(1).max(512), execution_id: z.string(), parameters: spec.params }).strict();
  const metrics: BatchMetrics = {
    prefix: spec.metricsPrefix ?? spec.name.toLowerCase(),
    gauges: spec.gauges,
    latestMetricsLabel: spec.latestMetricsLabel ?? true,
  };

  const execution = defineJob({
    name: spec.name,
    maxFails: 1,
    params: executionParams,
    batch: metrics,
    async run() {
      throw new Error(`${spec.name} runs as a fan-out of ${childName} jobs`);
    },
    fanOut: {
      child: childName,
      async plan(ctx, params) {
        const { pool_size, report_history, ...own } = params as { pool_size?: number; report_history?: number } & Record<string, unknown>;
        const targets = [...new Set(await spec.listTargets(ctx, own as z.infer<S>))];
        ctx.logger.info(`${targets.length} targets, ${pool_size ?? spec.poolSize ?? 4} at a time`);
        return {
          poolSize: pool_size ?? spec.poolSize ?? 4,
          reportHistory: report_history ?? spec.reportHistory ?? 3,
          shared: { execution_id: ctx.jobId, parameters: own },
          targets: targets.map((target) => ({ target })),
          targetKey: 'target',
          progress: { done: 'done', total: 'targets', extra: {} },
        };
      },
    },
  });

  const target = defineJob({
    name: childName,
    maxFails: spec.targetMaxFails ?? 1,
    params: targetParams,
    async run(ctx, parsed) {
      const params = parsed as { target: string; execution_id: string; parameters: z.infer<S> };
      const summary: TargetSummary = { report: {}, events: [], files: [] };
      const targetCtx: TargetContext = {
        ...ctx,
        target: params.target,
        executionId: params.execution_id,
        report(results) {
          const report = checkReport(spec.gauges, results);
          checkSummarySize({ ...summary, report });
          summary.report = report;
        },
        event(reason, message, options = {}) {
          checkEventReason(reason);
          const text = options.args && options.args.length > 0 ? format(message, ...options.args) : message;
          const event = { reason, message: text, warning: options.warning ?? false, at: Date.now() };
          checkSummarySize({ ...summary, events: [...summary.events, event] });
          summary.events.push(event);
          ctx.logger[options.warning ? 'warning' : 'info'](`event ${reason}: ${text}`);
        },
        async saveFile(name, bytes) {
          // Its name goes in the report: checked before the file is kept, as a report or event is.
          if (!summary.files.includes(name)) checkSummarySize({ ...summary, files: [...summary.files, name] });
          await ctx.saveFile(name, bytes);
          if (!summary.files.includes(name)) summary.files.push(name);
        },
      };
      try {
        await spec.runTarget(targetCtx, params.parameters);
      } finally {
        ctx.checkin(JSON.stringify(summary));
      }
    },
  });
  return [execution, target];
}
