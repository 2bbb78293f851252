/** Temporal's default `frontend.visibilityMaxPageSize`. */
const VISIBILITY_MAX_PAGE = 1000;

/**
 * Harbor pages by number, Temporal by token: reaching page n means reading past the pages before
 * it. Read them in RPCs as large as the server allows rather than one API page at a time.
 */
export function visibilityPageSize(skip: number, pageSize: number): number {
  return Math.min(VISIBILITY_MAX_PAGE, skip + pageSize);
}

/**
 * Page `pageNumber` of a visibility listing whose total is `total`: skips the rows before it and
 * keeps up to `pageSize` that `toJob` turns into jobs (rows that are not jobs are passed over).
 * `list` is called with the page size to request from the server, and only when the page exists.
 */
export async function readPage<T, J>(
  total: number,
  pageNumber: number,
  pageSize: number,
  list: (serverPageSize: number) => AsyncIterable<T>,
  toJob: (row: T) => J | undefined,
): Promise<J[]> {
  const jobs: J[] = [];
  const skip = (pageNumber - 1) * pageSize;
  if (skip >= total) return jobs;
  let index = 0;
  for await (const row of list(visibilityPageSize(skip, pageSize))) {
    if (index++ < skip) continue;
    const job = toJob(row);
    if (job !== undefined) jobs.push(job);
    if (jobs.length >= pageSize) break;
  }
  return jobs;
}
