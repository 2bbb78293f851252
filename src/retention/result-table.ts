import type { Candidate } from './select.js';

/** Harbor's Retention column: IMMUTABLE for an artifact no rule retained that an immutability rule keeps. */
export type Retention = 'RETAIN' | 'DEL' | 'ERR' | 'IMMUTABLE';

export interface ResultRow {
  candidate: Candidate;
  retention: Retention;
  error?: string;
  note?: string;
}

const HEADER = ['Digest', 'Tag', 'Kind', 'Labels', 'PushedTime', 'PulledTime', 'CreatedTime', 'Retention'];

/** Harbor's time format (`2006/01/02 15:04:05`, here in UTC), blank for an unknown time. */
function formatTime(seconds: number | undefined): string {
  if (seconds === undefined || seconds <= 0) return '';
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ').replace(/-/g, '/');
}

/** Harbor's retention result table, then one line per error and per protected artifact. */
export function resultTable(repository: string, rows: readonly ResultRow[]): string {
  const cells = rows.map(({ candidate: c, retention }) => [
    c.digest,
    c.tags.join(','),
    c.kind,
    // A plain registry has no labels; the column is Harbor's.
    '',
    formatTime(c.pushedTime),
    formatTime(c.pulledTime),
    formatTime(c.createdTime),
    retention,
  ]);
  // A loop, not a spread: a table of ~125,000 rows would pass each as an argument and overflow the stack.
  const widths = HEADER.map((h) => h.length);
  for (const row of cells) row.forEach((cell, i) => (widths[i] = Math.max(widths[i]!, cell.length)));
  const line = (r: string[]) => `| ${r.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const out = [rule, line(HEADER), rule, ...cells.map(line), rule];
  for (const row of rows) {
    if (row.error) out.push(`Retention error for artifact ${row.candidate.kind}:${repository}:${row.candidate.digest} : ${row.error}`);
    if (row.note) out.push(`Retained ${row.candidate.digest}: ${row.note}`);
  }
  return out.join('\n');
}
