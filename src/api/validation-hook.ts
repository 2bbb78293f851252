import type { Hook } from '@hono/zod-openapi';
import { badRequest } from './api-error.js';
import { describeIssues } from './describe-issues.js';
import type { AppEnv } from './error-handler.js';

const PARTS: Partial<Record<string, 'query' | 'path'>> = { query: 'query', param: 'path' };

/** Every failed validation, of a body, a query or a path, is Harbor's 400 with code 10013. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (!result.success) throw badRequest(describeIssues(result.error, PARTS[result.target]));
};
