import { repositoryReportJobs } from './batch/repository-report-job.js';
import { demoJob } from './demo-job.js';
import { notificationSettings, schedulerJobs, slackJob, webhookJob, type NotificationSettings } from './harbor/notification-jobs.js';
import { garbageCollectionJob } from './garbage-collection-job.js';
import { createJobRegistry, type JobRegistry, type RegistryOptions } from './job-registry.js';
import { noopBatchJob, noopBatchTarget } from './noop-batch-job.js';
import { noopJob } from './noop-job.js';
import { retentionJob } from './retention/retention-job.js';
import { retentionRepositoryJob } from './retention/retention-repository-job.js';
import { DEFAULT_REGISTRY_SETTINGS, type RegistrySettings } from './retention/retention-settings.js';

/** The jobs this build of jobservice knows; the registry jobs take the worker's registry settings. */
export function defaultJobRegistry(
  settings: RegistrySettings = DEFAULT_REGISTRY_SETTINGS,
  notifications: NotificationSettings = notificationSettings(),
  options: RegistryOptions = {},
): JobRegistry {
  return createJobRegistry(
    [
      ...schedulerJobs,
      webhookJob(notifications),
      slackJob(notifications),
      demoJob,
      noopJob,
      noopBatchJob,
      noopBatchTarget,
      retentionJob(settings),
      retentionRepositoryJob(settings),
      garbageCollectionJob(settings),
      ...repositoryReportJobs(settings),
    ],
    options,
  );
}
