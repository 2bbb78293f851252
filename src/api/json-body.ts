import type { Context } from 'hono';
import { z } from 'zod';
import { ApiError, ErrorCode, badRequest } from './api-error.js';

/** Read a JSON body and validate it against a contract schema; every failure is a 4xx. */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, ErrorCode.BadRequest, 'unsupported media type', 'the body must be application/json');
  }
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, ErrorCode.HandleJSONData, 'malformed JSON', (err as Error).message);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest(describeIssues(parsed.error));
  return parsed.data;
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}
