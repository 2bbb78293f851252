import { z } from 'zod';
import { patternProblem } from '../../retention/doublestar.js';
import { PolicySchema } from '../../retention/policy-schema.js';
import { urlCarries } from '../../shared/url-parts.js';

/** A registry by URL only: its credentials, if any, come from the worker's `registries` configuration. */
export const RegistryParam = z
  .object({
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .refine(
        (u) => !urlCarries(u, { credentials: true, query: true }),
        'must carry no credentials or query: configure credentials under registries in the worker configuration',
      )
      // The registry's API is at /v2/ of its root: a path or fragment would be dropped or misread.
      .refine(
        (u) => !urlCarries(u, { fragment: true, path: true }),
        'must be the registry root, http(s)://host[:port], without a path or fragment',
      ),
  })
  .strict();

/** A repository name as the distribution spec allows it. */
export const RepositoryName = z
  .string()
  .max(255)
  .regex(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/, 'is not a repository name');

export const RetentionParams = z
  .object({
    registry: RegistryParam,
    scope: z
      .object({
        repositories: z.array(RepositoryName).max(10_000).optional(),
        /** Doublestar patterns over the registry's catalog. */
        repository_patterns: z
          .array(
            z
              .string()
              .min(1)
              .max(512)
              .superRefine((pattern, ctx) => {
                const problem = patternProblem(pattern);
                if (problem) ctx.addIssue({ code: 'custom', message: problem });
              }),
          )
          .max(100)
          .optional(),
      })
      .strict()
      .refine(
        (s) => (s.repositories?.length ?? 0) + (s.repository_patterns?.length ?? 0) > 0,
        'name repositories, repository_patterns, or both',
      ),
    policy: PolicySchema,
    dry_run: z.boolean().default(false),
    concurrency: z
      .object({
        /** Repositories processed at once (child jobs). */
        repositories: z.number().int().min(1).max(100).optional(),
        /** Deletes in flight against the registry across the whole execution. */
        deletes: z.number().int().min(1).max(256).optional(),
        /** Ceiling on delete requests per second across the whole execution; 0 for none. */
        deletes_per_second: z.number().min(0).max(10_000).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();
export type RetentionParams = z.infer<typeof RetentionParams>;

export const RetentionRepositoryParams = z
  .object({
    registry: RegistryParam,
    repository: RepositoryName,
    policy: PolicySchema,
    dry_run: z.boolean().default(false),
    /** This repository's share of the execution's in-flight deletes and of its rate. */
    max_in_flight: z.number().int().min(1).max(256).default(1),
    deletes_per_second: z.number().min(0).max(10_000).default(0),
  })
  .strict();
export type RetentionRepositoryParams = z.infer<typeof RetentionRepositoryParams>;
