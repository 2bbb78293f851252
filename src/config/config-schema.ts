import { z } from 'zod';
import type { RegistrySettings } from '../jobs/retention/retention-settings.js';
import { DEFAULT_RETRY_POLICY } from '../registry/registry-client.js';
import { DEV_SERVER_GO_GC, DEV_SERVER_GO_MEMORY_LIMIT } from '../temporal/dev-server-gc.js';
import { DEV_SERVER_VISIBILITY_INDEXES } from '../temporal/visibility-indexes.js';
import { allowListEntryProblem } from '../hooks/hook-allow-list.js';
import { LoggerConfig } from './logger-config.js';

export { LoggerConfig, LogLevel } from './logger-config.js';

const Port = z.number().int().min(1).max(65535);

export const TemporalConfig = z
  .object({
    /** A cluster's frontend. Unset: `npm start` runs an embedded dev server. */
    address: z.string().min(1).optional(),
    namespace: z.string().min(1).default('default'),
    /** Goes into visibility queries in single quotes: none of `'`, a backslash or control characters. */
    task_queue: z
      .string()
      .min(1)
      .max(1000)
      // eslint-disable-next-line no-control-regex
      .regex(/^[^'\\\x00-\x1f\x7f]+$/, "no ', \\ or control characters (it goes into visibility queries in quotes)")
      .default('jobservice'),
    /**
     * `npm start` only (API and worker in one process on one connection): a submit asks Temporal to
     * hand the job's first workflow task straight to this process's worker. Off: every task goes
     * through matching, as between separate processes.
     */
    eager_start: z.boolean().default(true),
    api_key: z.string().min(1).optional(),
    tls: z
      .object({
        client_cert: z.string().min(1).optional(),
        client_key: z.string().min(1).optional(),
        server_ca_cert: z.string().min(1).optional(),
        server_name: z.string().min(1).optional(),
      })
      .strict()
      // One without the other would connect without a client certificate, silently.
      .refine((tls) => (tls.client_cert === undefined) === (tls.client_key === undefined), {
        message: 'client_cert and client_key go together: a client certificate needs its key',
      })
      .optional(),
    dev_server: z
      .object({
        ip: z.string().default('127.0.0.1'),
        port: Port.default(7233),
        ui_port: Port.default(8233),
        /** SQLite file of the embedded server; relative paths are under the working directory. */
        db_file: z.string().default('data/temporal.db'),
        /** FULL: a 202 survives an OS crash. NORMAL: survives a process crash only, and is faster. */
        sqlite_synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
        /** Go's GOGC for the server: 'off' (collect by the memory limit only) or a percentage. */
        go_gc: z
          .union([z.number().int().min(1).max(99_999).transform(String), z.string()], { error: "'off' or a percentage such as 100" })
          .pipe(z.string().regex(/^(off|[1-9][0-9]{0,4})$/, "'off' or a percentage such as 100"))
          .default(DEV_SERVER_GO_GC),
        /** Go's GOMEMLIMIT for the server: where it collects garbage when go_gc is off. */
        go_memory_limit: z
          .string()
          .regex(/^[1-9][0-9]*(B|KiB|MiB|GiB|TiB)$/, 'a size such as 2GiB or 512MiB')
          .default(DEV_SERVER_GO_MEMORY_LIMIT),
        /**
         * 'lean': the SQLite file keeps only the visibility indexes job and schedule lists read
         * (faster writes for every workflow); 'all': Temporal's full set, restored if dropped.
         */
        visibility_indexes: z.enum(['lean', 'all']).default(DEV_SERVER_VISIBILITY_INDEXES),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const JobRuntimeConfig = z
  .object({
    /** How long a stopped job may take to return before it is marked Stopped and abandoned. */
    stop_grace_seconds: z.number().min(0).max(3600).default(10),
    /** A running job's activity heartbeats; a worker silent this long is taken as lost and the run moves on. */
    heartbeat_timeout_seconds: z.number().min(2).max(600).default(10),
    /** Longest single run of a job. */
    max_run_hours: z
      .number()
      .positive()
      .max(24 * 365)
      .default(24),
    /** A run reports Running after this long (or at its first check-in); quicker jobs skip a workflow task. */
    running_report_delay_ms: z.number().int().min(0).max(60_000).default(200),
    /** Check-ins closer together than this are coalesced (the newest always goes out). */
    checkin_min_interval_ms: z.number().int().min(0).max(60_000).default(500),
    /** Status hooks: first retry delay, doubling up to the cap, until the horizon (Harbor gives up after 5 min). */
    hook_retry_initial_ms: z.number().int().min(10).max(3_600_000).default(2000),
    hook_retry_max_seconds: z.number().min(1).max(86_400).default(60),
    hook_retry_hours: z
      .number()
      .positive()
      .max(24 * 30)
      .default(24),
    /** A finished job waits this long for its last hook events before handing them to a HookDelivery workflow. */
    hook_drain_ms: z.number().int().min(0).max(600_000).default(5000),
    /** One hook POST may take this long (Harbor: 30 s in all). */
    hook_timeout_seconds: z.number().min(1).max(300).default(10),
    /** A fan-out job (RETENTION, batch jobs) continues as new once its history has this many events. */
    fan_out_history_events: z.number().int().min(100).max(40_000).default(8000),
    /** Past this many history events a job's check-ins ride on heartbeats instead of updates (and hooks). */
    checkin_history_events: z.number().int().min(100).max(40_000).default(10_000),
    /**
     * A run waiting in its type's queue asks it again after this long without a grant: a queue
     * workflow closed meanwhile (terminated by an operator) loses no runs. Each ask is an activity
     * in the job's history, so not too often.
     */
    queue_ask_again_seconds: z.number().min(1).max(86_400).default(600),
    /**
     * A job's history past this size (Temporal warns at 10 MB and ends a workflow at 50 MB): its
     * check-ins ride on heartbeats, and a failing status hook waits for the job's end to be retried.
     */
    history_budget_mb: z.number().min(0.1).max(40).default(10),
    /** Status hooks go only to these hosts: names, `*.suffix` wildcards, IPs or CIDRs; empty allows any. */
    hook_allowed_hosts: z
      .array(
        z
          .string()
          .min(1)
          .max(253)
          .superRefine((entry, ctx) => {
            const problem = allowListEntryProblem(entry);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
      )
      .max(1000)
      .default([]),
    /** When set, every hook POST carries `X-Jobservice-Signature: sha256=<HMAC-SHA256 of the body, hex>`. */
    hook_secret: z.string().min(16, 'use a secret of 16 characters or more').optional(),
    /**
     * Secrets in job parameters and hook URLs are sealed with the first (AES-256-GCM) before they reach
     * Temporal's history; every key unseals, so a new key goes first and the old one stays until the
     * jobs sealed with it are gone. Empty: stored as given (npm start generates one).
     */
    sealing_keys: z.array(z.string().min(16, 'use a key of 16 characters or more')).max(16).default([]),
    /** Per job type: runs at once across every worker (Harbor's MaxCurrency), over the job's own; 0 lifts a limit. */
    concurrency_limits: z
      .record(z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be a job name'), z.number().int().min(0).max(100_000))
      .default({}),
  })
  .strict();

export const ConfigSchema = z
  .object({
    protocol: z.enum(['http', 'https']).default('http'),
    port: Port.default(8080),
    /** Address the API listens on. */
    host: z.string().default('127.0.0.1'),
    https_config: z
      .object({
        cert: z.string().min(1),
        key: z.string().min(1),
        /**
         * Harbor's internal TLS (`INTERNAL_VERIFY_CLIENT_CERT=true`): clients must present a
         * certificate signed by `client_ca` (`INTERNAL_TLS_TRUST_CA_PATH`), or the handshake fails.
         */
        verify_client_cert: z.boolean().default(false),
        client_ca: z.string().min(1).optional(),
      })
      .strict()
      .refine((https) => !https.verify_client_cert || https.client_ca !== undefined, {
        message: 'verify_client_cert needs client_ca (INTERNAL_TLS_TRUST_CA_PATH), the CA client certificates are checked against',
        path: ['client_ca'],
      })
      .optional(),
    worker_pool: z
      .object({
        /** Jobs one worker process runs at once. */
        workers: z.number().int().min(1).max(10_000).default(10),
        /**
         * Workflow tasks one worker process holds at once. A short job's run (a local activity)
         * holds its workflow task while it waits for one of the `workers` slots, and a submit starts
         * eagerly only while a workflow task slot is free: 40 (the SDK's default) left a burst of
         * NOOPs mostly going through the server's task queue.
         */
        workflow_tasks: z.number().int().min(2).max(10_000).default(200),
        /**
         * Whether workflow code runs under the SDK's 5 s watchdog (a thread Node starts for every call
         * into a workflow, ~0.7 ms of CPU per NOOP job): off, an activation that never returns holds
         * its worker thread, and after 60 s ends the process. See src/worker/unwatched-worker.ts.
         */
        workflow_watchdog: z.boolean().default(true),
        /** Status hook deliveries and history pruning one worker process runs at once, beside (not in) the job slots. */
        housekeeping_workers: z.number().int().min(1).max(10_000).default(20),
        /** Accepted so Harbor config files load; the backend is always Temporal. */
        backend: z.string().optional(),
        redis_pool: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .prefault({}),
    job_loggers: z.array(LoggerConfig).min(1),
    /** The service's own log: STD_OUTPUT, and FILE (`settings.base_dir`, `settings.filename`, default job_service.log) with its sweeper. */
    loggers: z.array(LoggerConfig).min(1),
    /** Harbor core's endpoint (`CORE_URL`): accepted so Harbor's configuration loads; no job here calls core (hooks carry their URL). */
    core_server: z.string().max(2048).optional(),
    /** Cap on the log tail the API returns, in MiB; 0 means the whole log. */
    max_retrieve_size_mb: z.number().min(0).default(10),
    /** Cap on a request body, in bytes. */
    max_body_bytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    job: JobRuntimeConfig.prefault({}),
    /** Properties a job reads with `ctx.get(key)`. */
    job_properties: z.record(z.string(), z.unknown()).default({}),
    temporal: TemporalConfig.prefault({}),
    /** Harbor's metrics: each worker process serves them at `path` on `port` when enabled. */
    metric: z
      .object({
        enabled: z.boolean().default(false),
        path: z
          .string()
          .regex(/^\/[\w\-./]*$/, 'must be an absolute URL path')
          .default('/metrics'),
        port: Port.default(8001),
      })
      .strict()
      .prefault({}),
    /** Registries the registry jobs reach with credentials; a job names a registry by URL only. */
    registries: z
      .array(
        z
          .object({
            url: z.url({ protocol: /^https?$/ }),
            username: z.string().min(1).optional(),
            password: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    /** Tag retention: one registry request's timeout, and the defaults of a job's `concurrency`. */
    retention: z
      .object({
        request_timeout_seconds: z.number().positive().max(600).default(30),
        /** Repeats of a request the registry pushes back on (429, 503; a read also on 502, 504 or a lost connection). */
        request_retries: z.number().int().min(0).max(20).default(4),
        /** A `Retry-After` longer than this fails the request instead of holding the job. */
        max_retry_after_seconds: z.number().min(0).max(3600).default(60),
        max_repositories_in_flight: z.number().int().min(1).max(100).default(8),
        max_deletes_in_flight: z.number().int().min(1).max(256).default(8),
        /** 0: no ceiling. */
        max_deletes_per_second: z.number().min(0).max(10_000).default(50),
      })
      .strict()
      .prefault({}),
    /** GARBAGE_COLLECTION: the registry's own collector, run on a worker that shares its storage. */
    garbage_collection: z
      .object({
        /** The registry's binary, run as `<binary> garbage-collect <registry_config>`. */
        binary: z.string().min(1).default('docker-registry'),
        registry_config: z.string().min(1).default('/etc/docker/registry/config.yml'),
        /** The registry's storage root, to report the bytes a collection frees. */
        storage_dir: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    /**
     * Harbor's reaper, accepted so Harbor config files load (Temporal does its work): a
     * `max_update_hours` above 24 raises job.max_run_hours (load-config.ts).
     */
    reaper: z
      .object({
        max_update_hours: z
          .number()
          .max(24 * 365)
          .optional(),
        max_dangling_hours: z.number().optional(),
      })
      .optional(),
    /** Inbound API secret; normally given as the CORE_SECRET environment variable. */
    // Trimmed as the API trims what a client presents: a secret file's trailing newline must not lock everyone out.
    core_secret: z.string().trim().min(1).optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.protocol === 'https' && !config.https_config) {
      ctx.addIssue({
        code: 'custom',
        path: ['https_config'],
        message: 'protocol https needs https_config.cert and https_config.key',
      });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

/** What the registry jobs take from the configuration. */
export function registrySettings(config: Config): RegistrySettings {
  return {
    registries: config.registries,
    requestTimeoutMs: config.retention.request_timeout_seconds * 1000,
    retry: {
      retries: config.retention.request_retries,
      maxRetryAfterMs: config.retention.max_retry_after_seconds * 1000,
      backoffMs: DEFAULT_RETRY_POLICY.backoffMs,
    },
    defaults: {
      repositories: config.retention.max_repositories_in_flight,
      deletes: config.retention.max_deletes_in_flight,
      deletesPerSecond: config.retention.max_deletes_per_second,
    },
    garbageCollection: {
      command: [config.garbage_collection.binary, 'garbage-collect', config.garbage_collection.registry_config],
      storageDir: config.garbage_collection.storage_dir,
    },
  };
}
