import { z } from '@hono/zod-openapi';
import { FILE_NAME } from '../../jobs/batch/report.js';
import { ANY_JOB_ID_PATTERN } from '../../shared/job-id.js';
import { JOB_KINDS, JOB_NAME_PATTERN, JOB_STATUSES } from '../../shared/job-model.js';

const positiveInt = (fallback: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be a positive whole number').transform(Number).pipe(z.number().int().min(1).max(max)).default(fallback);

export const ListJobsQuerySchema = z
  .object({
    page_number: positiveInt(1, 1_000_000),
    page_size: positiveInt(25, 100),
    /**
     * Harbor's cursor: the `Next-Cursor` of the page before (0 or absent: from the start). Given,
     * `page_number` is ignored, as Harbor does.
     */
    cursor: z
      .string()
      .regex(/^\d{1,9}$/, 'must be a whole number: the Next-Cursor header of the page before, 0 to start')
      .transform(Number)
      .optional(),
    status: z.enum(JOB_STATUSES).optional(),
    kind: z.enum(JOB_KINDS).optional(),
    name: z.string().regex(JOB_NAME_PATTERN, 'must be an upper snake case job name').optional(),
  })
  .strict();
export type ListJobsQuery = z.infer<typeof ListJobsQuerySchema>;

export const ExecutionsQuerySchema = z
  .object({
    page_number: positiveInt(1, 1_000_000),
    page_size: positiveInt(25, 100),
    non_dead_only: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .default(false),
  })
  .strict();
export type ExecutionsQuery = z.infer<typeof ExecutionsQuerySchema>;

/**
 * A job id in the forms we issue (a job, an execution) or Harbor's alias of an execution,
 * checked before it reaches Temporal or the file system.
 */
export const JobIdParamsSchema = z.object({
  id: z
    .string()
    .regex(ANY_JOB_ID_PATTERN, 'is not 24 lowercase hex characters (or an execution id, <id>@<epoch>)')
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const JobFileParamsSchema = JobIdParamsSchema.extend({
  name: z
    .string()
    .regex(FILE_NAME, 'must be 1–128 of A-Z a-z 0-9 . _ - (no path)')
    .openapi({ param: { name: 'name', in: 'path' } }),
});

export const QueueParamsSchema = z.object({
  job_type: z
    .string()
    .regex(JOB_NAME_PATTERN, 'must be an upper snake case job name, or all')
    .or(z.literal('all'))
    .openapi({ param: { name: 'job_type', in: 'path' } }),
});

export const JobLogQuerySchema = z
  .object({
    /** 1 or true: stream the log as it grows (chunked text) until the job ends. */
    follow: z
      .enum(['1', 'true', '0', 'false'])
      .transform((v) => v === '1' || v === 'true')
      .optional(),
  })
  .strict();
