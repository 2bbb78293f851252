import { z } from 'zod';
import {
  ErrorBodySchema,
  ExecutionsQuerySchema,
  HookEventSchema,
  JobActionRequestSchema,
  JobRequestSchema,
  JobStatsSchema,
  ListJobsQuerySchema,
  WorkerPoolsSchema,
} from './contract.js';

const components = {
  JobRequest: { schema: JobRequestSchema, io: 'input' },
  JobActionRequest: { schema: JobActionRequestSchema, io: 'input' },
  JobStats: { schema: JobStatsSchema, io: 'output' },
  WorkerPools: { schema: WorkerPoolsSchema, io: 'output' },
  Error: { schema: ErrorBodySchema, io: 'output' },
  HookEvent: { schema: HookEventSchema, io: 'output' },
} as const;

const ref = (name: keyof typeof components) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const jobEnvelope = { type: 'object', properties: { job: ref('JobStats') }, required: ['job'] };
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [String(code), { description: 'error', ...json(ref('Error')) }]));
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[0-9a-f]{24}(-\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z|@\\d+)?$' },
};

/** The OpenAPI 3.1 document, generated from the contract's zod schemas. */
export function openApiDocument(): Record<string, unknown> {
  const schemas = Object.fromEntries(
    Object.entries(components).map(([name, { schema, io }]) => [name, z.toJSONSchema(schema, { io })]),
  );
  const listQuery = z.toJSONSchema(ListJobsQuerySchema, { io: 'input' }) as { properties: Record<string, object> };
  const executionsQuery = z.toJSONSchema(ExecutionsQuerySchema, { io: 'input' }) as { properties: Record<string, object> };
  return {
    openapi: '3.1.0',
    info: { title: 'jobservice', version: '1', description: "Harbor's job service API on Temporal" },
    servers: [{ url: '/api/v1' }],
    components: {
      schemas,
      securitySchemes: { harborSecret: { type: 'apiKey', in: 'header', name: 'Authorization' } },
    },
    security: [{ harborSecret: [] }],
    paths: {
      '/jobs': {
        post: {
          summary: 'Submit a job',
          requestBody: { required: true, ...json(ref('JobRequest')) },
          responses: { '202': { description: 'accepted', ...json(jobEnvelope) }, ...errors(400, 401, 409, 413, 415, 501, 503) },
        },
        get: {
          summary: 'List jobs (newest activity first)',
          parameters: Object.entries(listQuery.properties).map(([name, schema]) => ({ name, in: 'query', schema })),
          responses: {
            '200': {
              description: 'a page of jobs; the header Total-Count has the total',
              ...json({ type: 'array', items: jobEnvelope }),
            },
            ...errors(400, 401, 503),
          },
        },
      },
      '/jobs/{id}': {
        get: {
          summary: "A job's stats",
          parameters: [idParam],
          responses: { '200': { description: 'stats', ...json(jobEnvelope) }, ...errors(400, 401, 404, 503) },
        },
        post: {
          summary: 'Act on a job: stop, cancel, retry; periodic jobs also pause, resume, trigger',
          parameters: [idParam],
          requestBody: { required: true, ...json(ref('JobActionRequest')) },
          responses: { '204': { description: 'done' }, ...errors(400, 401, 404, 409, 415, 501, 503) },
        },
      },
      '/jobs/{id}/executions': {
        get: {
          summary: "A periodic job's executions, running first (header Total-Count)",
          parameters: [
            idParam,
            ...Object.entries(executionsQuery.properties).map(([name, schema]) => ({ name, in: 'query', schema })),
          ],
          responses: {
            '200': { description: 'a page of executions', ...json({ type: 'array', items: jobEnvelope }) },
            ...errors(400, 401, 404, 503),
          },
        },
      },
      '/jobs/{id}/log': {
        get: {
          summary: "The tail of a job's log",
          parameters: [idParam],
          responses: {
            '200': { description: 'log text', content: { 'text/plain': { schema: { type: 'string' } } } },
            ...errors(400, 401, 404),
          },
        },
      },
      '/stats': {
        get: {
          summary: 'Worker pools and their health (no authentication)',
          security: [],
          responses: { '200': { description: 'pools', ...json(ref('WorkerPools')) }, ...errors(503) },
        },
      },
    },
    webhooks: {
      statusHook: {
        post: {
          summary: "Sent to a job's status_hook on each status change (Running and final) and check-in, in order",
          security: [],
          requestBody: { required: true, ...json(ref('HookEvent')) },
          responses: { '200': { description: 'delivered (any 2xx); anything else is retried with backoff' } },
        },
      },
    },
  };
}
