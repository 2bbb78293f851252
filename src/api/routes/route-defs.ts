/**
 * The routes of `/api/v1` as data: method, path, what each takes and answers. The app validates
 * requests with these and generates `/openapi.json` from them, so the two cannot drift.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  ErrorBodySchema,
  ExecutionsQuerySchema,
  JobActionRequestSchema,
  JobEnvelopeSchema,
  JobFileParamsSchema,
  JobIdParamsSchema,
  JobReportSchema,
  JobListSchema,
  JobRequestSchema,
  ListJobsQuerySchema,
  JobLogQuerySchema,
  HookLogSchema,
  QueueActionRequestSchema,
  QueueParamsSchema,
  QueuesSchema,
  WorkerPoolsSchema,
} from '../contract.js';

const json = <S extends z.ZodType>(schema: S) => ({ content: { 'application/json': { schema } } });

const ERROR_TEXT: Record<number, string> = {
  400: 'the request is malformed: bad JSON (10001), a bad id, query or field (10013)',
  401: 'missing or wrong Harbor-Secret (10011)',
  404: 'no such job, or job type (10010)',
  409: 'conflicts with the job as it is (10012), e.g. a unique job still active',
  413: 'the body is over the configured limit (10000)',
  415: 'the body is not application/json (10013)',
  501: 'unknown action (10008)',
  503: 'Temporal is not reachable, or no worker polls',
};
const errors = (...codes: (keyof typeof ERROR_TEXT)[]) =>
  Object.fromEntries(codes.map((code) => [code, { description: ERROR_TEXT[code]!, ...json(ErrorBodySchema) }]));

const totalCount = {
  'Total-Count': { description: 'how many match, over all pages', schema: { type: 'integer' as const, minimum: 0 } },
};

const nextCursor = {
  'Next-Cursor': {
    description: "Harbor's cursor: pass it as `cursor` for the page after this one; 0 once the listing is read to its end",
    schema: { type: 'integer' as const, minimum: 0 },
  },
};

const serverTiming = {
  'Server-Timing': {
    description:
      "`submit;dur=<ms>`: the submit's time inside the API once its body was read and validated, mostly the start call to Temporal (the rest of a client's wait is the wire and the HTTP stack)",
    schema: { type: 'string' as const },
  },
};

export const submitJobRoute = createRoute({
  method: 'post',
  path: '/jobs',
  summary: 'Submit a job (Generic, Scheduled or Periodic)',
  request: { body: { required: true, ...json(JobRequestSchema) } },
  responses: {
    202: { description: 'accepted', headers: serverTiming, ...json(JobEnvelopeSchema) },
    ...errors(400, 401, 409, 413, 415, 503),
  },
});

export const listJobsRoute = createRoute({
  method: 'get',
  path: '/jobs',
  summary: 'List jobs, newest activity first (kind=Periodic lists periodic jobs)',
  request: { query: ListJobsQuerySchema },
  responses: {
    200: { description: 'a page of jobs', headers: { ...totalCount, ...nextCursor }, ...json(JobListSchema) },
    ...errors(400, 401, 503),
  },
});

export const getJobRoute = createRoute({
  method: 'get',
  path: '/jobs/{id}',
  summary: "A job's stats",
  request: { params: JobIdParamsSchema },
  responses: { 200: { description: 'stats', ...json(JobEnvelopeSchema) }, ...errors(400, 401, 404, 503) },
});

export const jobActionRoute = createRoute({
  method: 'post',
  path: '/jobs/{id}',
  summary: 'Act on a job: stop, cancel, retry; periodic jobs also pause, resume, trigger',
  request: { params: JobIdParamsSchema, body: { required: true, ...json(JobActionRequestSchema) } },
  responses: { 204: { description: 'done' }, ...errors(400, 401, 404, 409, 413, 415, 501, 503) },
});

export const executionsRoute = createRoute({
  method: 'get',
  path: '/jobs/{id}/executions',
  summary: "A periodic job's executions, running first",
  request: { params: JobIdParamsSchema, query: ExecutionsQuerySchema },
  responses: {
    200: { description: 'a page of executions', headers: totalCount, ...json(JobListSchema) },
    ...errors(400, 401, 404, 503),
  },
});

export const jobLogRoute = createRoute({
  method: 'get',
  path: '/jobs/{id}/log',
  summary: "The tail of a job's log (up to max_retrieve_size_mb); with follow=1, then the log as it grows until the job ends",
  request: { params: JobIdParamsSchema, query: JobLogQuerySchema },
  responses: {
    200: { description: 'log text', content: { 'text/plain': { schema: z.string() } } },
    ...errors(400, 401, 404),
  },
});

export const jobReportRoute = createRoute({
  method: 'get',
  path: '/jobs/{id}/report',
  summary: "A batch or fan-out job's report: per target its job, status, results, events and files",
  request: { params: JobIdParamsSchema },
  responses: { 200: { description: 'the report', ...json(JobReportSchema) }, ...errors(400, 401, 404, 503) },
});

export const jobHooksRoute = createRoute({
  method: 'get',
  path: '/jobs/{id}/hooks',
  summary: "A job's status hook events: id, each attempt (time, HTTP status or error), delivered or not",
  request: { params: JobIdParamsSchema },
  responses: { 200: { description: 'the hook log', ...json(HookLogSchema) }, ...errors(400, 401, 404, 503) },
});

export const jobFileRoute = createRoute({
  method: 'get',
  path: '/jobs/{id}/files/{name}',
  summary: "A file a job saved (a batch target job's report file)",
  request: { params: JobFileParamsSchema },
  responses: {
    200: { description: 'the file', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errors(400, 401, 404),
  },
});

export const workerPoolsRoute = createRoute({
  method: 'get',
  path: '/stats',
  summary: 'Worker pools and their health (no authentication)',
  security: [],
  responses: { 200: { description: 'pools', ...json(WorkerPoolsSchema) }, ...errors(503) },
});

export const listQueuesRoute = createRoute({
  method: 'get',
  path: '/queues',
  summary: 'Job queues per job type: pending count, running, latency, paused, concurrency limit',
  responses: { 200: { description: 'one row per job type', ...json(QueuesSchema) }, ...errors(401, 503) },
});

export const queueActionRoute = createRoute({
  method: 'put',
  path: '/queues/{job_type}',
  summary: 'pause, resume or stop the jobs of a type (or all types)',
  request: { params: QueueParamsSchema, body: { required: true, ...json(QueueActionRequestSchema) } },
  responses: {
    200: { description: 'the queue(s) after the action', ...json(QueuesSchema) },
    ...errors(400, 401, 404, 413, 415, 503),
  },
});

/** Every route of the API, for the app to serve and for the contract test to check. */
export const ROUTES = [
  submitJobRoute,
  listJobsRoute,
  getJobRoute,
  jobActionRoute,
  executionsRoute,
  jobLogRoute,
  jobReportRoute,
  jobHooksRoute,
  jobFileRoute,
  workerPoolsRoute,
  listQueuesRoute,
  queueActionRoute,
];
