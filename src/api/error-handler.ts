import { ScheduleNotFoundError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { RequestError } from '@hono/node-server';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ScheduleKeptChangingError } from '../temporal/schedule-write.js';
import { ApiError, ErrorCode } from './api-error.js';
import type { ErrorBody } from './contract.js';

/** gRPC status codes that mean "Temporal is not reachable right now" rather than "bad request". */
const UNAVAILABLE_CODES = new Set([4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 14 /* UNAVAILABLE */]);

const INVALID_ARGUMENT = 3;

const RETRY_AFTER_SECONDS = 5;

export type AppEnv = { Variables: { failCode: ErrorCode } };

/** The one place errors become HTTP: every reply is `{code, err, description}` JSON. */
export function toErrorReply(error: unknown, failCode: ErrorCode): { status: ContentfulStatusCode; body: ErrorBody } {
  if (error instanceof ApiError) {
    const reply = body(error.code, error.err, error.description);
    return { status: error.status, body: error.jobId ? { ...reply, job_id: error.jobId } : reply };
  }
  // Thrown by the request validators before our code runs.
  if (error instanceof HTTPException && error.status === 400) {
    return { status: 400, body: body(ErrorCode.HandleJSONData, 'malformed JSON', error.message) };
  }
  if (error instanceof HTTPException && error.status === 415) {
    return { status: 415, body: body(ErrorCode.BadRequest, 'unsupported media type', 'the body must be application/json') };
  }
  if (error instanceof WorkflowNotFoundError) {
    return { status: 404, body: body(ErrorCode.NoObjectFound, 'object is not found', error.workflowId ?? undefined) };
  }
  if (error instanceof ScheduleNotFoundError) {
    return { status: 404, body: body(ErrorCode.NoObjectFound, 'object is not found', error.scheduleId) };
  }
  if (error instanceof WorkflowExecutionAlreadyStartedError) {
    return { status: 409, body: body(ErrorCode.ResourceConflicts, 'conflict', `job ${error.workflowId} is still active`) };
  }
  if (error instanceof ScheduleKeptChangingError) {
    return { status: 409, body: body(ErrorCode.ResourceConflicts, 'conflict', error.message) };
  }
  const grpc = grpcError(error);
  if (grpc && UNAVAILABLE_CODES.has(grpc.code)) {
    return { status: 503, body: body(failCode, 'service unavailable', 'Temporal is not reachable; try again') };
  }
  // What the request carried and Node could not judge, refused by the server (a time zone Go does
  // not know by that spelling): the caller's to fix, with the server's reason.
  if (grpc?.code === INVALID_ARGUMENT) {
    return { status: 400, body: body(ErrorCode.BadRequest, 'bad request', `Temporal refused the request: ${grpc.details}`) };
  }
  return { status: 500, body: body(failCode, 'internal error', error instanceof Error ? error.message : String(error)) };
}

export function errorResponse(c: Context<AppEnv>, error: unknown): Response {
  const { status, body: payload } = toErrorReply(error, c.get('failCode') ?? ErrorCode.ReadRequestBody);
  // Temporal away (restarting, unreachable): a client should come back shortly, not give up.
  if (status === 503) c.header('Retry-After', String(RETRY_AFTER_SECONDS));
  return c.json(payload, status);
}

/**
 * A request Node parsed but that is no URL (a backslash in its path, a bad Host header): answered
 * before the app runs, still as `{code, err, description}`. Anything else thrown that far out is a 500.
 */
export function unroutableRequestReply(error: unknown): Response {
  const malformed = error instanceof RequestError;
  const reply = malformed
    ? body(ErrorCode.BadRequest, 'bad request', `the request has no valid URL: ${error.message}`)
    : body(ErrorCode.ReadRequestBody, 'internal error', error instanceof Error ? error.message : String(error));
  return Response.json(reply, { status: malformed ? 400 : 500 });
}

function body(code: number, err: string, description?: string): ErrorBody {
  return description ? { code, err, description } : { code, err };
}

/** The gRPC status under an SDK error (the SDK wraps it as `cause`), with its message. */
function grpcError(error: unknown): { code: number; details: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const { code, details, message } = current as { code?: unknown; details?: unknown; message?: unknown };
    if (typeof code === 'number') return { code, details: String(details || message || '') };
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
