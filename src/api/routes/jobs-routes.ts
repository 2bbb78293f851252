import { Hono, type Context } from 'hono';
import type { JobRegistry } from '../../jobs/job-registry.js';
import { readLogTail } from '../../logs/log-reader.js';
import { isJobId } from '../../shared/job-id.js';
import { JobKind, OpCommand } from '../../shared/job-model.js';
import { ApiError, ErrorCode, badRequest, notFound } from '../api-error.js';
import { JobActionRequestSchema, JobRequestSchema, KNOWN_ACTIONS, ListJobsQuerySchema, type JobAction } from '../contract.js';
import type { AppEnv } from '../error-handler.js';
import type { JobGateway } from '../job-gateway.js';
import { describeIssues, readJsonBody } from '../json-body.js';
import { failCode } from '../fail-code.js';

export interface JobsRoutesDeps {
  gateway: JobGateway;
  registry: JobRegistry;
  /** The FILE job logger's directory; without it there are no logs to serve. */
  logDir?: string;
  maxLogBytes: number;
}

export function jobsRoutes(deps: JobsRoutesDeps): Hono<AppEnv> {
  const { gateway, registry } = deps;
  const app = new Hono<AppEnv>();

  app.post('/jobs', failCode(ErrorCode.LaunchJob), async (c) => {
    const { job } = await readJsonBody(c, JobRequestSchema);
    const { kind, schedule_delay: delay, cron_spec: cron, unique } = job.metadata;
    const definition = registry.get(job.name);
    if (!definition) {
      throw badRequest(`job.name: no job named ${JSON.stringify(job.name)}; known jobs: ${registry.names().join(', ')}`);
    }
    if (kind === JobKind.Periodic) {
      throw new ApiError(501, ErrorCode.LaunchJob, 'not implemented', 'Periodic jobs are not supported yet');
    }
    if (kind === JobKind.Scheduled && !delay) {
      throw badRequest('job.metadata.schedule_delay: a Scheduled job needs a delay of at least 1 second');
    }
    if (kind === JobKind.Generic && delay) {
      throw badRequest('job.metadata.schedule_delay: only Scheduled jobs take a delay');
    }
    if (cron) throw badRequest('job.metadata.cron_spec: only Periodic jobs take a cron spec');
    const parameters = job.parameters ?? {};
    const checked = definition.params.safeParse(parameters);
    if (!checked.success) throw badRequest(`job.parameters: ${describeIssues(checked.error)}`);
    const stats = await gateway.submit({
      name: job.name,
      kind,
      parameters,
      unique: unique ?? false,
      statusHook: job.status_hook || undefined,
      scheduleDelay: delay,
    });
    return c.json({ job: stats }, 202);
  });

  app.get('/jobs', failCode(ErrorCode.GetJobs), async (c) => {
    const parsed = ListJobsQuerySchema.safeParse(c.req.query());
    if (!parsed.success) throw badRequest(describeIssues(parsed.error));
    const { total, jobs } = await gateway.list(parsed.data);
    c.header('Total-Count', String(total));
    return c.json(jobs.map((job) => ({ job })));
  });

  app.get('/jobs/:id', failCode(ErrorCode.GetJobStats), async (c) => {
    return c.json({ job: await gateway.stats(jobIdParam(c)) });
  });

  app.post('/jobs/:id', failCode(ErrorCode.StopJob), async (c) => {
    const id = jobIdParam(c);
    const { action } = await readJsonBody(c, JobActionRequestSchema);
    if (!(KNOWN_ACTIONS as readonly string[]).includes(action)) {
      throw new ApiError(501, ErrorCode.UnknownActionName, 'unknown action', `action ${JSON.stringify(action)} is not one of ${KNOWN_ACTIONS.join(', ')}`);
    }
    switch (action as JobAction) {
      case 'stop':
        await gateway.command(id, OpCommand.Stop);
        break;
      case 'cancel':
        await gateway.command(id, OpCommand.Cancel);
        break;
      case 'retry':
        c.set('failCode', ErrorCode.RetryJob);
        await gateway.retry(id);
        break;
    }
    return c.body(null, 204);
  });

  app.get('/jobs/:id/log', failCode(ErrorCode.GetJobLog), async (c) => {
    const id = jobIdParam(c);
    if (!deps.logDir) throw notFound(`no FILE job logger is configured, so job ${id} has no log to read`);
    const log = await readLogTail(deps.logDir, id, deps.maxLogBytes);
    if (log === undefined) {
      throw notFound((await gateway.exists(id)) ? `job ${id} has not written a log yet` : id);
    }
    return c.body(new Uint8Array(log), 200, { 'Content-Type': 'text/plain; charset=utf-8' });
  });

  return app;
}

/** Ids are checked against the one form we issue before they reach Temporal or the file system. */
function jobIdParam(c: Context): string {
  const id = c.req.param('id') ?? '';
  if (!isJobId(id)) throw badRequest(`job id ${JSON.stringify(id.slice(0, 80))} is not 24 lowercase hex characters`);
  return id;
}
