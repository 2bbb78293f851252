import { proxySinks, workflowInfo, type Sinks } from '@temporalio/workflow';
import { JobStatus } from '../shared/job-model.js';
import type { MetricRunStatus } from '../metrics/job-metrics.js';

/** What a job's workflow tells its worker's process (not recorded in history, not repeated on replay). */
export interface JobSinks extends Sinks {
  jobMetrics: {
    /** A fan-out job ended with this Harbor run status, this many seconds after it was submitted. */
    fanOutEnded(type: string, status: MetricRunStatus, seconds: number): void;
  };
}

const { jobMetrics } = proxySinks<JobSinks>();

/**
 * A fan-out job is one run for Harbor's task metrics, counted as it ends: its activity only plans
 * (again after each continue-as-new), and it ends with its targets, in the workflow.
 */
export function countFanOutEnd(type: string, status: JobStatus): void {
  const counted: MetricRunStatus = status === JobStatus.Success ? 'success' : status === JobStatus.Error ? 'fail' : 'stop';
  jobMetrics.fanOutEnded(type, counted, Math.max(0, Date.now() - workflowInfo().startTime.getTime()) / 1000);
}
