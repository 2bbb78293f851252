import { z } from 'zod';
import { defineJob } from './define-job.js';

/** Does no work: for benchmarks and smoke tests. Optionally waits, checking in on a timer. */
export const noopJob = defineJob({
  name: 'NOOP',
  maxFails: 1,
  // A NOOP that does nothing is a short job (the fast path); one that waits shows Running meanwhile.
  short: { capMs: 5_000, applies: (params) => params.duration_ms === 0 },
  params: z
    .object({
      /** How long to wait before returning. */
      duration_ms: z.number().int().min(0).max(3_600_000).default(0),
      /** Check in this often while waiting; 0 never checks in. */
      checkin_every_ms: z.number().int().min(0).max(3_600_000).default(0),
    })
    .strict(),
  async run(ctx, params) {
    const deadline = Date.now() + params.duration_ms;
    while (Date.now() < deadline && !ctx.signal.aborted) {
      const left = deadline - Date.now();
      if (params.checkin_every_ms > 0) {
        await ctx.sleep(Math.min(params.checkin_every_ms, left));
        ctx.checkin(`${Math.round(((params.duration_ms - (deadline - Date.now())) / params.duration_ms) * 100)}%`);
      } else {
        await ctx.sleep(left);
      }
    }
  },
});
