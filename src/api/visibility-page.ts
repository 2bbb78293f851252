/** Temporal's default `frontend.visibilityMaxPageSize`. */
const VISIBILITY_MAX_PAGE = 1000;

/**
 * Harbor pages by number (and by a SCAN cursor), Temporal by token: reaching row n means reading
 * past the rows before it. Read them in RPCs as large as the server allows rather than one API page
 * at a time.
 */
export function visibilityPageSize(skip: number, pageSize: number): number {
  return Math.min(VISIBILITY_MAX_PAGE, skip + pageSize);
}

/** A page of jobs and where the next one starts: Harbor's `Next-Cursor`, 0 once the listing is read to its end. */
export interface Page<J> {
  jobs: J[];
  nextCursor: number;
}

/**
 * The rows of a visibility listing whose total is `total` from row `skip` on: keeps up to `pageSize`
 * that `toJob` turns into jobs (rows that are not jobs are passed over, and counted as read).
 * `list` is called with the page size to request from the server, and only when the rows exist.
 */
export async function readPage<T, J>(
  total: number,
  skip: number,
  pageSize: number,
  list: (serverPageSize: number) => AsyncIterable<T>,
  toJob: (row: T) => J | undefined,
): Promise<Page<J>> {
  const jobs: J[] = [];
  if (skip >= total) return { jobs, nextCursor: 0 };
  let index = 0;
  let ended = true;
  for await (const row of list(visibilityPageSize(skip, pageSize))) {
    if (index++ < skip) continue;
    const job = toJob(row);
    if (job !== undefined) jobs.push(job);
    if (jobs.length >= pageSize) {
      ended = false;
      break;
    }
  }
  // A page that filled up exactly at the listing's end says so by its count: a client would
  // otherwise ask once more for an empty page.
  return { jobs, nextCursor: ended || index >= total ? 0 : index };
}

/** The row a page starts at: Harbor's `cursor` when given (it ignores `page_number` then), else the page number's. */
export function firstRow(query: { page_number: number; page_size: number; cursor?: number | undefined }): number {
  return query.cursor ?? (query.page_number - 1) * query.page_size;
}

/** A page with the listing's total (Harbor's `Total-Count`). */
export type Listed<J> = Page<J> & { total: number };
