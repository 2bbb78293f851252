import { z } from 'zod';
import { defineBatchJob } from './batch/define-batch-job.js';

/** A batch of no-op targets: for the fan-out benchmark and smoke tests, as NOOP is for single jobs. */
export const [noopBatchJob, noopBatchTarget] = defineBatchJob({
  name: 'NOOP_BATCH',
  metricsPrefix: 'jobservice_noop_batch',
  params: z
    .object({
      targets: z.number().int().min(0).max(20_000),
      /** How long each target waits before it reports. */
      duration_ms: z.number().int().min(0).max(3_600_000).default(0),
    })
    .strict(),
  gauges: [{ suffix: 'target_duration_ms', help: 'How long the target ran', labels: [] }],
  async listTargets(_ctx, params) {
    return Array.from({ length: params.targets }, (_, i) => `target-${i}`);
  },
  async runTarget(ctx, params) {
    const started = Date.now();
    await ctx.sleep(params.duration_ms);
    ctx.report({ target_duration_ms: [{ value: Date.now() - started, labels: {} }] });
  },
});
