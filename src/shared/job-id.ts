/**
 * Job ids, in the forms we issue (pure; imported by workflow code):
 * - a job or periodic job: Harbor's 24 lowercase hex characters;
 * - an execution of a periodic job: the workflow id Temporal gives a schedule-started run,
 *   `<periodic id>-<RFC 3339 UTC second>`;
 * - Harbor's alias of an execution, `<periodic id>@<unix seconds>`, accepted wherever an id is.
 */
export const JOB_ID_PATTERN = /^[0-9a-f]{24}$/;
const EXECUTION_ID_PATTERN = /^([0-9a-f]{24})-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/;
const ALIAS_PATTERN = /^([0-9a-f]{24})@(\d{1,12})$/;
/** Any of the three forms, as one pattern (what the API's path parameter is checked against). */
export const ANY_JOB_ID_PATTERN = new RegExp(
  `^(?:${[JOB_ID_PATTERN, EXECUTION_ID_PATTERN, ALIAS_PATTERN].map((p) => p.source.slice(1, -1)).join('|')})$`,
);

export function isJobId(value: string): boolean {
  return JOB_ID_PATTERN.test(value) || EXECUTION_ID_PATTERN.test(value);
}

/** The workflow id behind an id or alias, or undefined when it is neither. */
export function resolveJobId(value: string): string | undefined {
  if (isJobId(value)) return value;
  const alias = ALIAS_PATTERN.exec(value);
  if (!alias) return undefined;
  const date = new Date(Number(alias[2]) * 1000);
  if (Number.isNaN(date.getTime())) return undefined;
  return executionId(alias[1]!, date);
}

/** The id Temporal gives the run a schedule starts at `nominal` (it appends the UTC second). */
export function executionId(periodicId: string, nominal: Date): string {
  return `${periodicId}-${nominal.toISOString().slice(0, 19)}Z`;
}

/** `<periodic id>@<epoch>` for an execution id, Harbor's form. */
export function executionAlias(id: string): string | undefined {
  const match = EXECUTION_ID_PATTERN.exec(id);
  return match ? `${match[1]}@${Date.parse(match[2]!) / 1000}` : undefined;
}
