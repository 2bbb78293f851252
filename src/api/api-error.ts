import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Harbor's jobservice error codes (`src/jobservice/errs/errors.go`). */
export const ErrorCode = {
  ReadRequestBody: 10000,
  HandleJSONData: 10001,
  LaunchJob: 10003,
  CheckStats: 10004,
  GetJobStats: 10005,
  StopJob: 10006,
  RetryJob: 10007,
  UnknownActionName: 10008,
  GetJobLog: 10009,
  NoObjectFound: 10010,
  UnAuthorized: 10011,
  ResourceConflicts: 10012,
  BadRequest: 10013,
  GetJobs: 10014,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The one error type handlers throw; the error handler turns it into `{code, err, description}`. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    readonly err: string,
    readonly description?: string,
    /** The job the error is about, when there is one a caller wants to act on (the active duplicate of a unique job). */
    readonly jobId?: string,
  ) {
    super(description ? `${err}: ${description}` : err);
    this.name = 'ApiError';
  }
}

export const badRequest = (description: string) => new ApiError(400, ErrorCode.BadRequest, 'bad request', description);
export const notFound = (description: string) => new ApiError(404, ErrorCode.NoObjectFound, 'object is not found', description);
export const conflict = (description: string, jobId?: string) =>
  new ApiError(409, ErrorCode.ResourceConflicts, 'conflict', description, jobId);
