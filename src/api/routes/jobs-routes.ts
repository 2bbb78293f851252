import { Hono, type Context } from 'hono';
import type { JobRegistry } from '../../jobs/job-registry.js';
import { readLogTail } from '../../logs/log-reader.js';
import { JOB_ID_PATTERN, resolveJobId } from '../../shared/job-id.js';
import { WorkflowNotFoundError } from '@temporalio/client';
import { JobKind, OpCommand } from '../../shared/job-model.js';
import { ApiError, ErrorCode, badRequest, conflict, notFound } from '../api-error.js';
import {
  ExecutionsQuerySchema,
  JobActionRequestSchema,
  JobRequestSchema,
  KNOWN_ACTIONS,
  ListJobsQuerySchema,
  PERIODIC_OPTIONS,
  type JobAction,
} from '../contract.js';
import type { PeriodicGateway } from '../periodic-gateway.js';
import type { AppEnv } from '../error-handler.js';
import type { JobGateway } from '../job-gateway.js';
import { describeIssues, readJsonBody } from '../json-body.js';
import { failCode } from '../fail-code.js';

export interface JobsRoutesDeps {
  gateway: JobGateway;
  periodic: PeriodicGateway;
  registry: JobRegistry;
  /** The FILE job logger's directory; without it there are no logs to serve. */
  logDir?: string;
  maxLogBytes: number;
}

export function jobsRoutes(deps: JobsRoutesDeps): Hono<AppEnv> {
  const { gateway, periodic, registry } = deps;

  /** A job's stats, whether it is a workflow (job, execution) or a schedule (periodic job). */
  const statsOf = async (id: string) => {
    try {
      return await gateway.stats(id);
    } catch (err) {
      if (!isNotFound(err) || !JOB_ID_PATTERN.test(id)) throw err;
      const found = await periodic.find(id);
      if (!found) throw err;
      return found;
    }
  };
  const app = new Hono<AppEnv>();

  app.post('/jobs', failCode(ErrorCode.LaunchJob), async (c) => {
    const { job } = await readJsonBody(c, JobRequestSchema);
    const { kind, schedule_delay: delay, cron_spec: cron, unique } = job.metadata;
    const definition = registry.get(job.name);
    if (!definition) {
      throw badRequest(`job.name: no job named ${JSON.stringify(job.name)}; known jobs: ${registry.names().join(', ')}`);
    }
    if (kind !== JobKind.Periodic) {
      const misplaced = PERIODIC_OPTIONS.find((option) => job.metadata[option] !== undefined);
      if (misplaced) throw badRequest(`job.metadata.${misplaced}: only Periodic jobs take this option`);
      if (cron) throw badRequest('job.metadata.cron_spec: only Periodic jobs take a cron spec');
    } else {
      if (!cron) throw badRequest('job.metadata.cron_spec: a Periodic job needs a cron spec');
      if (delay) throw badRequest('job.metadata.schedule_delay: a Periodic job takes a cron spec, not a delay');
      if (unique) throw badRequest('job.metadata.unique: Periodic jobs cannot be unique');
    }
    if (kind === JobKind.Scheduled && !delay) {
      throw badRequest('job.metadata.schedule_delay: a Scheduled job needs a delay of at least 1 second');
    }
    if (kind === JobKind.Generic && delay) {
      throw badRequest('job.metadata.schedule_delay: only Scheduled jobs take a delay');
    }
    const parameters = job.parameters ?? {};
    const checked = definition.params.safeParse(parameters);
    if (!checked.success) throw badRequest(`job.parameters: ${describeIssues(checked.error)}`);
    if (kind === JobKind.Periodic) {
      const options = Object.fromEntries(PERIODIC_OPTIONS.map((o) => [o, job.metadata[o]]).filter(([, v]) => v !== undefined));
      const stats = await periodic.create({
        name: job.name,
        parameters,
        statusHook: job.status_hook || undefined,
        cronSpec: cron!,
        options,
      });
      return c.json({ job: stats }, 202);
    }
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
    // Periodic jobs are schedules, not workflows: they are listed on their own.
    const { total, jobs } = parsed.data.kind === JobKind.Periodic ? await periodic.list(parsed.data) : await gateway.list(parsed.data);
    c.header('Total-Count', String(total));
    return c.json(jobs.map((job) => ({ job })));
  });

  app.get('/jobs/:id', failCode(ErrorCode.GetJobStats), async (c) => {
    return c.json({ job: await statsOf(jobIdParam(c)) });
  });

  app.get('/jobs/:id/executions', failCode(ErrorCode.GetJobStats), async (c) => {
    const id = jobIdParam(c);
    const parsed = ExecutionsQuerySchema.safeParse(c.req.query());
    if (!parsed.success) throw badRequest(describeIssues(parsed.error));
    const stats = await statsOf(id);
    if (stats.kind !== JobKind.Periodic) throw badRequest(`job ${id} is ${stats.kind}; only Periodic jobs have executions`);
    const { page_number, page_size, non_dead_only } = parsed.data;
    const { total, jobs } = await gateway.executions(id, page_number, page_size, non_dead_only);
    c.header('Total-Count', String(total));
    return c.json(jobs.map((job) => ({ job })));
  });

  app.post('/jobs/:id', failCode(ErrorCode.StopJob), async (c) => {
    const id = jobIdParam(c);
    const { action } = await readJsonBody(c, JobActionRequestSchema);
    if (!(KNOWN_ACTIONS as readonly string[]).includes(action)) {
      throw new ApiError(501, ErrorCode.UnknownActionName, 'unknown action', `action ${JSON.stringify(action)} is not one of ${KNOWN_ACTIONS.join(', ')}`);
    }
    const stats = await statsOf(id);
    if (stats.kind === JobKind.Periodic) {
      switch (action as JobAction) {
        case 'stop':
        case 'cancel':
          await periodic.stop(
            stats,
            () => gateway.runningExecutions(id),
            (execution) => gateway.command(execution, OpCommand.Stop),
          );
          break;
        case 'pause':
          await periodic.pause(stats);
          break;
        case 'resume':
          await periodic.resume(stats);
          break;
        case 'trigger':
          await periodic.trigger(stats);
          break;
        case 'retry':
          throw conflict(`periodic job ${id} cannot be retried; trigger runs it now`);
      }
      return c.body(null, 204);
    }
    switch (action as JobAction) {
      case 'stop':
        await gateway.command(id, OpCommand.Stop, stats);
        break;
      case 'cancel':
        await gateway.command(id, OpCommand.Cancel, stats);
        break;
      case 'retry':
        c.set('failCode', ErrorCode.RetryJob);
        await gateway.retry(id);
        break;
      default:
        throw badRequest(`action ${action} applies to Periodic jobs only; job ${id} is ${stats.kind}`);
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
  const raw = c.req.param('id') ?? '';
  const id = resolveJobId(raw);
  if (!id) {
    throw badRequest(
      `job id ${JSON.stringify(raw.slice(0, 80))} is not 24 lowercase hex characters (or an execution id, <id>@<epoch>)`,
    );
  }
  return id;
}

function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err instanceof ApiError && err.status === 404);
}
