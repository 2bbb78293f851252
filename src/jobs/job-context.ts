import type { OpCommand } from '../shared/job-model.js';

/** A job's own log (Harbor's levels). Lines go to every configured job logger backend. */
export interface JobLogger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** Harbor's FATAL line; the run goes on (Harbor's logger ended the whole worker process). */
  fatal(message: string): void;
}

/** What a job asks for when it launches a sub job. */
export interface SubJobRequest {
  name: string;
  parameters?: Record<string, unknown>;
  /**
   * Where the sub job's status changes are POSTed, as a submit's `status_hook` (Harbor's JobRequest):
   * checked as the API checks one, `job.hook_allowed_hosts` included. None by default.
   */
  status_hook?: string;
}

/** The seed's job context, in TypeScript. One is built per run of a job. */
export interface JobContext {
  readonly jobId: string;
  readonly revision: number;
  readonly upstreamJobId?: string;
  readonly logger: JobLogger;
  /** Report progress; the newest message shows in the stats as `check_in`. */
  checkin(message: string): void;
  /** `stop` or `cancel` once either was asked of this job, otherwise undefined. */
  opCommand(): OpCommand | undefined;
  /** Aborted when the job is asked to stop or cancel; `opCommand()` says which. */
  readonly signal: AbortSignal;
  /** How long the job has, once `signal` aborts, to return before it is abandoned (job.stop_grace_seconds). */
  readonly stopGraceMs?: number;
  /** A job property from configuration (`job_properties`). */
  get(key: string): unknown;
  /**
   * Start a sub job, a job of its own (a child workflow) whose `upstream_job_id` is this job;
   * resolves to its id. Stop and cancel of this job reach its sub jobs.
   */
  launchJob(request: SubJobRequest): Promise<string>;
  /** Sleep that ends early when the job is stopped or cancelled. */
  sleep(ms: number): Promise<void>;
  /**
   * Record how far the run has come (small, JSON). It travels with the run's heartbeats, so if the
   * worker is lost the run that takes over reads it with `savedProgress()` and need not repeat work.
   */
  saveProgress(progress: unknown): void;
  /** What the previous attempt of this run saved, if it was interrupted (a lost worker). */
  savedProgress(): unknown;
  /** Keep a file with the job (a report): `GET /jobs/{id}/files/{name}` serves it. Needs the FILE job logger. */
  saveFile(name: string, bytes: Uint8Array | string): Promise<void>;
}
