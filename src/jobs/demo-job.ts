import { z } from 'zod';
import { defineJob } from './define-job.js';
import type { JobContext } from './job-context.js';

const DemoParams = z
  .object({
    image: z.string().startsWith('demo', { message: "image must start with 'demo'" }),
    /** Pause after each check-in. */
    step_ms: z.number().int().min(0).max(600_000).default(1000),
    /** Pause after the last check-in, before the final stop checkpoint. */
    hold_ms: z.number().int().min(0).max(3_600_000).default(1000),
    /** Throw at the end, to see retries and the Error status. */
    fail: z.boolean().default(false),
    /** Never look at stop/cancel, to see the grace period at work. */
    ignore_stop: z.boolean().default(false),
  })
  .strict();

/** The seed README's sample job: three check-ins, honouring stop and cancel at its checkpoints. */
export const demoJob = defineJob({
  name: 'DEMO',
  maxFails: 3,
  shouldRetry: true,
  params: DemoParams,
  async run(ctx, params) {
    const { logger } = ctx;
    logger.info(`demo job running for image ${params.image}`);
    const pause = (ms: number) => (params.ignore_stop ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : ctx.sleep(ms));
    const stopped = (where: string) => !params.ignore_stop && checkpoint(ctx, where);

    for (const [progress, ms] of [
      ['30%', params.step_ms],
      ['60%', params.step_ms],
      ['100%', params.hold_ms],
    ] as const) {
      logger.info(`check in ${progress}`);
      ctx.checkin(progress);
      await pause(ms);
      if (stopped(`after ${progress}`)) return;
    }
    if (params.fail) throw new Error('demo job failed as asked (fail=true)');
    logger.info("I'm finished, exit!");
  },
});

function checkpoint(ctx: JobContext, where: string): boolean {
  const command = ctx.opCommand();
  if (command === undefined) return false;
  ctx.logger.info(`received ${command} ${where}; exiting`);
  return true;
}
