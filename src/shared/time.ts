/** Unix seconds now; in workflow code `Date.now()` is the workflow clock, so this stays deterministic. */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}
