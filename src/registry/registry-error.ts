/** A registry answered in a way the job cannot go on from; the message never carries credentials. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    readonly status: number,
    message: string,
    /** No answer came: the connection was refused or reset (not a timeout, not a stop). */
    readonly unanswered = false,
  ) {
    super(message);
  }
}

/** A read's 404 as absence (`.catch(absentAs(undefined))`); any other failure stands. */
export function absentAs<T>(value: T) {
  return (err: unknown): T => {
    if (err instanceof RegistryError && err.status === 404) return value;
    throw err;
  };
}
