import { Hono } from 'hono';
import { ApiError, ErrorCode } from '../api-error.js';
import type { AppEnv } from '../error-handler.js';
import { failCode } from '../fail-code.js';
import type { JobGateway } from '../job-gateway.js';

/** Worker pools and their health; 503 when no worker polls the job task queue at all. */
export function statsRoute(gateway: JobGateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/stats', failCode(ErrorCode.CheckStats), async (c) => {
    const pools = await gateway.pools();
    if (pools.length === 0) {
      throw new ApiError(503, ErrorCode.CheckStats, 'no worker pool', 'no worker is polling the job task queue');
    }
    return c.json({ worker_pools: pools });
  });
  return app;
}
