import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { WorkflowInfo } from '@temporalio/workflow';
import { JobKind } from '../shared/job-model.js';
import type { StartInput } from '../shared/start-input.js';

const ScheduledByIdKey = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

/**
 * An input an operator wrote by hand (`temporal schedule update --input '{"name":…,"parameters":…}'`,
 * a schedule made in the Web UI) may leave out what the API always writes. Without a kind the
 * job's search attributes could not be written and its workflow task failed for good: the
 * execution never ran, the API could not read it, and a stop of its periodic job missed it. A run
 * a schedule started is an execution of that schedule, as the API's template says.
 */
export function filledIn(input: StartInput, info: Pick<WorkflowInfo, 'workflowType' | 'typedSearchAttributes'>): StartInput {
  if (typeof input.kind === 'string' && typeof input.name === 'string' && input.parameters !== undefined) return input;
  const scheduledBy = info.typedSearchAttributes.get(ScheduledByIdKey);
  const kind = input.kind ?? (info.workflowType === 'ScheduledJob' ? JobKind.Scheduled : JobKind.Generic);
  const filled: StartInput = { ...input, kind, name: typeof input.name === 'string' ? input.name : '', parameters: input.parameters ?? {} };
  if (filled.upstreamJobId === undefined && kind === JobKind.Scheduled && scheduledBy) filled.upstreamJobId = scheduledBy;
  return filled;
}
