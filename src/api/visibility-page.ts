/** Temporal's default `frontend.visibilityMaxPageSize`. */
const VISIBILITY_MAX_PAGE = 1000;

/**
 * Harbor pages by number, Temporal by token: reaching page n means reading past the pages before
 * it. Read them in RPCs as large as the server allows rather than one API page at a time.
 */
export function visibilityPageSize(skip: number, pageSize: number): number {
  return Math.min(VISIBILITY_MAX_PAGE, skip + pageSize);
}
