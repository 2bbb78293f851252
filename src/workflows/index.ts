/** The workflow bundle's entry: one exported function per workflow type. */
export { GenericJob, ScheduledJob } from './job-workflow.js';
export { HookDelivery } from './hook-delivery-workflow.js';
export { JobQueue } from './job-queue-workflow.js';
