import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { JobRegistry } from '../jobs/job-registry.js';
import { ApiError, ErrorCode, notFound } from './api-error.js';
import { harborSecretAuth } from './auth.js';
import { errorResponse, type AppEnv } from './error-handler.js';
import type { JobGateway } from './job-gateway.js';
import type { PeriodicGateway } from './periodic-gateway.js';
import { openApiDocument } from './openapi.js';
import { jobsRoutes } from './routes/jobs-routes.js';
import { statsRoute } from './routes/stats-route.js';

export interface AppDeps {
  gateway: JobGateway;
  periodic: PeriodicGateway;
  registry: JobRegistry;
  secret: string;
  logDir?: string;
  maxLogBytes: number;
  maxBodyBytes: number;
}

/** Builds the REST facade; never listens (the entry point serves it, tests call `app.request`). */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) => errorResponse(c, notFound(`no route ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.use('*', harborSecretAuth(deps.secret));
  app.use(
    '*',
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: () => {
        throw new ApiError(413, ErrorCode.ReadRequestBody, 'request body too large', `the limit is ${deps.maxBodyBytes} bytes`);
      },
    }),
  );

  const v1 = new Hono<AppEnv>();
  v1.route('/', jobsRoutes(deps));
  v1.route('/', statsRoute(deps.gateway));
  v1.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.route('/api/v1', v1);
  return app;
}
