import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiError, ErrorCode } from './api-error.js';

const PREFIX = 'Harbor-Secret ';

/**
 * `Authorization: Harbor-Secret <secret>`, checked before routing so unknown paths answer 401 too.
 * `openUrls` are served without it, to GET without a query string only (Harbor leaves /stats open
 * for health checks).
 */
export function harborSecretAuth(secret: string, openUrls: readonly string[]): MiddlewareHandler {
  if (!secret) throw new Error('an empty secret would let every request in');
  const expected = digest(secret);
  return async (c, next) => {
    if (c.req.method === 'GET' && openUrls.includes(c.req.path) && !c.req.url.includes('?')) return next();
    const header = c.req.header('authorization') ?? '';
    if (!header.startsWith(PREFIX)) {
      throw new ApiError(401, ErrorCode.UnAuthorized, 'unauthorized', `missing '${PREFIX.trim()}' authorization`);
    }
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (!timingSafeEqual(digest(header.slice(PREFIX.length).trim()), expected)) {
      throw new ApiError(401, ErrorCode.UnAuthorized, 'unauthorized', 'invalid secret');
    }
    return next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
