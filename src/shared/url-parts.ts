/**
 * Whether a URL string carries userinfo (or, with `query`, a query string, even an empty one; with `fragment`, a
 * fragment, even an empty one; with `path`, a path beyond `/`). Used in schema
 * refinements, which zod runs even when the string failed its URL check: an unparsable string
 * answers false here, and the URL check reports it.
 */
export function urlCarries(value: string, what: { credentials?: boolean; query?: boolean; fragment?: boolean; path?: boolean }): boolean {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return false;
  }
  return (
    (what.credentials === true && (parsed.username !== '' || parsed.password !== '')) ||
    (what.query === true && (parsed.search !== '' || value.includes('?'))) ||
    (what.fragment === true && (parsed.hash !== '' || value.includes('#'))) ||
    (what.path === true && parsed.pathname !== '/' && parsed.pathname !== '')
  );
}
