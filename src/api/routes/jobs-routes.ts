import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { resolveJobId } from '../../shared/job-id.js';
import { badRequest, ErrorCode } from '../api-error.js';
import type { AppEnv } from '../error-handler.js';
import type { JobService } from '../job-service.js';
import { validationHook } from '../validation-hook.js';
import {
  executionsRoute,
  getJobRoute,
  jobActionRoute,
  jobFileRoute,
  jobHooksRoute,
  jobLogRoute,
  jobReportRoute,
  listJobsRoute,
  listQueuesRoute,
  queueActionRoute,
  submitJobRoute,
  workerPoolsRoute,
} from './route-defs.js';

/** HTTP in, HTTP out: every route validates with its definition and hands the job work to the service. */
export function jobsRoutes(service: JobService): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(submitJobRoute, async (c) => {
    failCode(c, ErrorCode.LaunchJob);
    const started = performance.now();
    const job = await service.submit(c.req.valid('json').job);
    return c.json({ job }, 202, { 'Server-Timing': `submit;dur=${(performance.now() - started).toFixed(1)}` });
  });

  app.openapi(listJobsRoute, async (c) => {
    failCode(c, ErrorCode.GetJobs);
    const { total, jobs, nextCursor } = await service.list(c.req.valid('query'));
    return c.json(
      jobs.map((job) => ({ job })),
      200,
      { 'Total-Count': String(total), 'Next-Cursor': String(nextCursor) },
    );
  });

  app.openapi(getJobRoute, async (c) => {
    failCode(c, ErrorCode.GetJobStats);
    return c.json({ job: await service.stats(jobId(c.req.valid('param').id)) }, 200);
  });

  app.openapi(executionsRoute, async (c) => {
    failCode(c, ErrorCode.GetJobStats);
    const { total, jobs } = await service.executions(jobId(c.req.valid('param').id), c.req.valid('query'));
    return c.json(
      jobs.map((job) => ({ job })),
      200,
      { 'Total-Count': String(total) },
    );
  });

  app.openapi(jobActionRoute, async (c) => {
    const { action } = c.req.valid('json');
    failCode(c, action === 'retry' ? ErrorCode.RetryJob : ErrorCode.StopJob);
    await service.act(jobId(c.req.valid('param').id), action);
    return c.body(null, 204);
  });

  app.openapi(jobLogRoute, async (c) => {
    failCode(c, ErrorCode.GetJobLog);
    const id = jobId(c.req.valid('param').id);
    if (c.req.valid('query').follow) {
      // A client that leaves before the log has a line ends the polling too.
      const streamed = new Response(await service.followLog(id, c.req.raw.signal), {
        status: 200,
        headers: { 'content-type': 'text/plain; charset=UTF-8', 'cache-control': 'no-cache' },
      });
      // The same text/plain answer as without follow, only streamed; Hono's typing knows no stream of text.
      return streamed as unknown as ReturnType<typeof c.text<string, 200>>;
    }
    // The bytes as written, streamed: a log may be larger than a string can hold.
    const { body, length } = await service.log(id);
    const tail = new Response(body, {
      status: 200,
      headers: { 'content-type': 'text/plain; charset=UTF-8', 'content-length': String(length) },
    });
    return tail as unknown as ReturnType<typeof c.text<string, 200>>;
  });

  app.openapi(jobReportRoute, async (c) => {
    failCode(c, ErrorCode.GetJobStats);
    return c.json(await service.report(jobId(c.req.valid('param').id)), 200);
  });

  app.openapi(jobHooksRoute, async (c) => {
    failCode(c, ErrorCode.GetJobStats);
    return c.json(await service.hooks(jobId(c.req.valid('param').id)), 200);
  });

  app.openapi(jobFileRoute, async (c) => {
    failCode(c, ErrorCode.GetJobLog);
    const { id, name } = c.req.valid('param');
    // Streamed: a saved file may be larger than a process should hold (or than a Buffer can, 2 GiB).
    const file = await service.file(jobId(id), name);
    return new Response(file.body, {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(file.length) },
    });
  });

  app.openapi(workerPoolsRoute, async (c) => {
    failCode(c, ErrorCode.CheckStats);
    return c.json({ worker_pools: await service.pools() }, 200);
  });

  app.openapi(listQueuesRoute, async (c) => {
    failCode(c, ErrorCode.CheckStats);
    return c.json(await service.queues(), 200);
  });

  app.openapi(queueActionRoute, async (c) => {
    failCode(c, ErrorCode.StopJob);
    return c.json(await service.actOnQueue(c.req.valid('param').job_type, c.req.valid('json').action), 200);
  });

  return app;
}

/** The Harbor error code this route reports for failures that are not the caller's fault. */
function failCode(c: Context<AppEnv>, code: ErrorCode): void {
  c.set('failCode', code);
}

/** The workflow id behind a well-formed id or alias (the alias's epoch must be a real date). */
function jobId(raw: string): string {
  const id = resolveJobId(raw);
  if (!id)
    throw badRequest(`job id ${JSON.stringify(raw.slice(0, 80))} is not 24 lowercase hex characters (or an execution id, <id>@<epoch>)`);
  return id;
}
