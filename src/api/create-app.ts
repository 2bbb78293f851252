import { OpenAPIHono } from '@hono/zod-openapi';
import { ErrorCode, notFound } from './api-error.js';
import { harborSecretAuth } from './auth.js';
import { HookEventSchema } from './contract.js';
import { errorResponse, type AppEnv } from './error-handler.js';
import type { JobService } from './job-service.js';
import { requestBody } from './request-body.js';
import { jobsRoutes } from './routes/jobs-routes.js';

export interface AppDeps {
  service: JobService;
  /** The batch jobs' gauges in Prometheus' text format. */
  metrics: () => Promise<string>;
  secret: string;
  maxBodyBytes: number;
}

export const API_BASE = '/api/v1';
export const OPENAPI_PATH = `${API_BASE}/openapi.json`;
export const METRICS_PATH = '/metrics';

/** Builds the REST facade; never listens (the entry point serves it, tests call `app.request`). */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) => errorResponse(c, notFound(`no route ${c.req.method} ${new URL(c.req.url).pathname}`)));
  // Health, the API's own description and the metrics Prometheus scrapes are open, as Harbor leaves /stats open.
  app.use('*', harborSecretAuth(deps.secret, [`${API_BASE}/stats`, OPENAPI_PATH, METRICS_PATH]));
  app.use('*', requestBody(deps.maxBodyBytes));
  // The document describes /api/v1 (its `servers` entry), so it is generated from the mounted sub-app.
  const v1 = jobsRoutes(deps.service);
  v1.openAPIRegistry.registerComponent('securitySchemes', 'harborSecret', {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: '`Harbor-Secret <secret>`',
  });
  v1.openAPIRegistry.registerWebhook({
    method: 'post',
    path: 'statusHook',
    summary: "Sent to a job's status_hook on each status change (Running and final) and check-in, in order",
    security: [],
    request: { body: { required: true, content: { 'application/json': { schema: HookEventSchema } } } },
    responses: { 200: { description: 'delivered (any 2xx); anything else is retried with backoff' } },
  });
  v1.doc31(OPENAPI_PATH.slice(API_BASE.length), {
    openapi: '3.1.0',
    info: { title: 'jobservice', version: '1', description: "Harbor's job service API on Temporal" },
    servers: [{ url: API_BASE }],
    security: [{ harborSecret: [] }],
  });
  app.route(API_BASE, v1);
  app.get(METRICS_PATH, async (c) => {
    c.set('failCode', ErrorCode.CheckStats);
    return c.text(await deps.metrics(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  return app;
}
