import { timingSafeEqual } from 'node:crypto';
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
  const expected = Buffer.from(secret, 'utf8');
  return async (c, next) => {
    if (c.req.method === 'GET' && openUrls.includes(c.req.path) && !c.req.url.includes('?')) return next();
    const header = c.req.header('authorization') ?? '';
    if (!header.startsWith(PREFIX)) {
      throw new ApiError(401, ErrorCode.UnAuthorized, 'unauthorized', `missing '${PREFIX.trim()}' authorization`);
    }
    // Constant-time for a presented secret of the right length; a wrong length is refused at once,
    // as Go's subtle.ConstantTimeCompare does: it tells only the length. (Hashing both sides hid
    // the length too, for ~50 µs of CPU a request on this machine.)
    // Node reads header bytes as latin1: back to the bytes sent, which Harbor core (Go) compares
    // with its secret's UTF-8 bytes, so a secret with a non-ASCII character works as there.
    const presented = Buffer.from(header.slice(PREFIX.length).trim(), 'latin1');
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      throw new ApiError(401, ErrorCode.UnAuthorized, 'unauthorized', 'invalid secret');
    }
    return next();
  };
}
