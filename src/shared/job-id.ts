/** Job ids are Harbor's: 24 lowercase hex characters (12 random bytes). */
export const JOB_ID_PATTERN = /^[0-9a-f]{24}$/;

export function isJobId(value: string): boolean {
  return JOB_ID_PATTERN.test(value);
}
