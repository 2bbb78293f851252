import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes that make jobs listable and legible in the Web UI, e.g.
 * `JobName = "DEMO" AND JobStatus = "Error"`. Pure: imported by workflow code too.
 */
export const JobNameKey = defineSearchAttributeKey('JobName', SearchAttributeType.KEYWORD);
export const JobKindKey = defineSearchAttributeKey('JobKind', SearchAttributeType.KEYWORD);
export const JobStatusKey = defineSearchAttributeKey('JobStatus', SearchAttributeType.KEYWORD);
export const UpstreamJobIdKey = defineSearchAttributeKey('UpstreamJobId', SearchAttributeType.KEYWORD);

export const JOB_SEARCH_ATTRIBUTES = [JobNameKey, JobKindKey, JobStatusKey, UpstreamJobIdKey] as const;
