import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The embedded server's marker beside its SQLite file: its pid and the pid of the process that
 * started it. A `npm start` killed with SIGKILL (or by the OOM killer) leaves its server running,
 * holding the port and the file, and the next `npm start` could only refuse: with the marker it
 * can tell that server is an orphan of its own and end it first.
 */
interface Marker {
  pid: number;
  owner: number;
  dbFile: string;
}

const markerPath = (dbFile: string) => `${dbFile}.server-pid`;

export function writeServerMarker(dbFile: string, pid: number): void {
  writeFileSync(markerPath(dbFile), JSON.stringify({ pid, owner: process.pid, dbFile } satisfies Marker));
}

export function removeServerMarker(dbFile: string, pid: number): void {
  const marker = readMarker(dbFile);
  if (marker?.pid === pid) rmSync(markerPath(dbFile), { force: true });
}

/**
 * Ends the server an earlier, dead owner left running on `dbFile` (SIGTERM, SIGKILL after 10 s);
 * true if there was one. A server whose owner lives (another `npm start`) is left alone, and so is
 * a process that is not a Temporal server on that file (the pid reused since).
 */
export async function endOrphanedServer(dbFile: string, log: (line: string) => void = () => undefined): Promise<boolean> {
  const marker = readMarker(dbFile);
  if (!marker || marker.dbFile !== dbFile) return false;
  if (alive(marker.owner) || !alive(marker.pid) || !commandLine(marker.pid).includes(dbFile)) {
    if (!alive(marker.pid)) rmSync(markerPath(dbFile), { force: true });
    return false;
  }
  log(`ending Temporal server ${marker.pid}, left running on ${dbFile} by a process that is gone (${marker.owner})`);
  process.kill(marker.pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive(marker.pid)) {
    if (Date.now() > deadline) process.kill(marker.pid, 'SIGKILL');
    await sleep(100);
  }
  rmSync(markerPath(dbFile), { force: true });
  return true;
}

function readMarker(dbFile: string): Marker | undefined {
  try {
    const marker = JSON.parse(readFileSync(markerPath(dbFile), 'utf8')) as Partial<Marker>;
    return typeof marker.pid === 'number' && typeof marker.owner === 'number' && typeof marker.dbFile === 'string'
      ? (marker as Marker)
      : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's command line (Linux's /proc); empty where there is none to read. */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}
