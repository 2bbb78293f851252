import type { MiddlewareHandler } from 'hono';
import type { ErrorCode } from './api-error.js';
import type { AppEnv } from './error-handler.js';

/** The Harbor error code a route reports for failures that are not the caller's fault. */
export function failCode(code: ErrorCode): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('failCode', code);
    await next();
  };
}
