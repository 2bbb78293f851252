import { z } from '@hono/zod-openapi';
import { QUEUE_ACTIONS } from '../../shared/job-queue.js';
import { urlCarries } from '../../shared/url-parts.js';
import { checkMetadataForKind, JobMetadataSchema } from './job-metadata.js';

/**
 * How deep a job's parameters may nest. Every layer that handles them (redaction, canonical JSON for
 * unique ids, Temporal's payload converter) walks them recursively: a few kilobytes nested a few
 * thousand levels deep would overflow the stack there, where this refuses them at the door.
 */
export const MAX_PARAMETER_DEPTH = 64;

/** The nesting depth of a value, read without recursion; a string holding JSON text nests as that. */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    let inner: unknown = item;
    if (typeof item === 'string') {
      const first = item.trimStart()[0];
      if (first !== '{' && first !== '[') continue;
      try {
        inner = JSON.parse(item);
      } catch {
        continue;
      }
    }
    if (inner === null || typeof inner !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_PARAMETER_DEPTH) return deepest;
    for (const child of Object.values(inner)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Whether a value holds a number JSON cannot carry (`1e400` parses as Infinity), read without recursion. */
export function holdsNonFinite(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'number' && !Number.isFinite(item)) return true;
    // One push per child: spreading a long array into push overflows the call stack.
    if (item !== null && typeof item === 'object') for (const child of Object.values(item)) stack.push(child);
  }
  return false;
}

/** Whether an object anywhere in `value` has an own key `__proto__` (JSON.parse makes one; assignments would not copy it). */
export function holdsProtoKey(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object') continue;
    if (Object.hasOwn(item, '__proto__')) return true;
    for (const child of Object.values(item)) stack.push(child);
  }
  return false;
}

/** Where a job's status changes are POSTed; a sub job's (`ctx.launchJob`) is checked against the same. */
export const StatusHookUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine(
    (u) => !urlCarries(u, { credentials: true }),
    'must carry no credentials (user:password@): they would be sent nowhere and shown everywhere',
  );

export const JobRequestSchema = z
  .object({
    job: z
      .object({
        name: z.string().min(1).max(128),
        // Harbor core sends `null` for a job without parameters (its SCHEDULER tasks): the same as none.
        // A key named `__proto__` is an ordinary one in JSON (and in Harbor's Go map), but a record
        // here drops it: the job would run with other parameters than submitted, and nothing said so.
        parameters: z
          .preprocess(
            (value, ctx) => {
              if (holdsProtoKey(value)) ctx.addIssue({ code: 'custom', message: 'hold a key named "__proto__", which is not accepted' });
              return value;
            },
            z.record(z.string(), z.unknown()),
          )
          .refine((parameters) => nestingDepth(parameters) <= MAX_PARAMETER_DEPTH, {
            message: `nest deeper than ${MAX_PARAMETER_DEPTH} levels (JSON text inside a string counts too)`,
          })
          // Harbor's json.Unmarshal refuses such a number; stored, it would read back as null.
          .refine((parameters) => !holdsNonFinite(parameters), { message: 'hold a number out of range (such as 1e400)' })
          .nullable()
          .optional(),
        status_hook: z.union([z.literal(''), StatusHookUrlSchema]).optional(),
        metadata: JobMetadataSchema,
      })
      .strict(),
  })
  .strict()
  .superRefine((request, ctx) => checkMetadataForKind(request.job.metadata, ctx))
  .openapi('JobRequest');
export type JobRequest = z.infer<typeof JobRequestSchema>;

/** `action` is any string here: an unknown action is Harbor's 501, not a 400. */
export const JobActionRequestSchema = z
  .object({ action: z.string().min(1).max(64) })
  .strict()
  .openapi('JobActionRequest');
export const KNOWN_ACTIONS = ['stop', 'cancel', 'retry', 'pause', 'resume', 'trigger'] as const;
export type JobAction = (typeof KNOWN_ACTIONS)[number];

export const QueueActionRequestSchema = z
  .object({
    /** pause: submitted jobs stay Pending, none starts; resume: they start again; stop: every pending and running job of the type is stopped. */
    action: z.enum(QUEUE_ACTIONS),
  })
  .strict()
  .openapi('QueueAction');
