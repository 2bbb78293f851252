import type { Client } from '@temporalio/client';
import type { JobRegistry } from '../jobs/job-registry.js';
import type { JobLoggerFactory } from '../logs/job-loggers.js';
import type { JobMetrics } from '../metrics/job-metrics.js';
import type { GateReader } from '../queues/gate-reader.js';
import type { Sealer } from '../secrets/sealer.js';
import type { BackgroundWork } from '../process/background-work.js';

/** What a worker's activities are built with (src/worker/create-worker.ts). */
export interface ActivityDeps {
  registry: JobRegistry;
  client: Client;
  loggers: JobLoggerFactory;
  properties: Readonly<Record<string, unknown>>;
  checkinMinIntervalMs: number;
  /** How often the run heartbeats, whether or not the job checks in. */
  heartbeatIntervalMs: number;
  /**
   * How long a run goes before it reports Running (a check-in reports it at once). A job done
   * sooner goes straight from Pending to its final status and saves a workflow task.
   */
  runningReportDelayMs: number;
  /** Harbor's task counters and run times, when the process serves metrics. */
  metrics?: JobMetrics;
  /** The FILE job logger's directory; report files go beside the logs. */
  logDir?: string;
  /** Every FILE job logger's directory: a pruned execution's log goes from each. */
  logDirs?: readonly string[];
  /** Reads a type's queue (pause, stop fence) as a run starts. */
  gates: GateReader;
  /** `job.stop_grace_seconds`: a run still going this long after a stop is abandoned by its workflow. */
  stopGraceMs?: number;
  /** `job.hook_secret`: hook POSTs are signed with it. */
  hookSecret?: string;
  /** `job.hook_allowed_hosts`. */
  hookAllowedHosts?: readonly string[];
  /** Opens the parameters sealed for Temporal's history, and seals a sub job's and a plan's (`job.sealing_keys`). */
  sealer?: Sealer;
  /** Work an activity leaves going after it returns (a deletion once its execution closes); the worker's close ends it. */
  background: BackgroundWork;
}
