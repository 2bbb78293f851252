import type { z } from 'zod';

/** A zod error as one line a caller can act on: `path: message; …`. */
export function describeIssues(error: z.ZodError, part?: 'query' | 'path'): string {
  return error.issues
    .map((issue) => {
      // A body's fields read as they are (`job.name`); a query's or a path's say which part they are in.
      const field = issue.path.join('.');
      const where = part === undefined ? field || 'body' : field ? `${part} ${field}` : part;
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}
