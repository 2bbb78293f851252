import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { procStat, running } from '../process/proc-stat.js';

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
  /** The server's identity beyond its pid, which a later process may get (after a reboot above all). */
  startedAt?: string;
  bootId?: string;
}

const markerPath = (dbFile: string) => `${dbFile}.server-pid`;

export function writeServerMarker(dbFile: string, pid: number): void {
  const marker: Marker = { pid, owner: process.pid, dbFile };
  const startedAt = startTime(pid);
  const boot = bootId();
  if (startedAt) marker.startedAt = startedAt;
  if (boot) marker.bootId = boot;
  writeFileSync(markerPath(dbFile), JSON.stringify(marker));
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
  // The server exiting already (its pipes went with its owner: Go ends a process whose log write
  // meets a closed pipe) reads an empty command line while it still holds its port: it is waited for.
  // Only where its start time was recorded (Linux), so the pid is known to be that server's.
  const exiting = marker.startedAt !== undefined && stillRunning(marker) && commandLine(marker.pid).join('') === '';
  if (!exiting && !sameServer(marker)) {
    // Gone, or its pid is some other process's now: the marker tells nothing more.
    rmSync(markerPath(dbFile), { force: true });
    return false;
  }
  if (running(marker.owner)) return false;
  log(
    `${exiting ? 'waiting for' : 'ending'} Temporal server ${marker.pid}, left running on ${dbFile} by a process that is gone (${marker.owner})`,
  );
  if (!exiting) process.kill(marker.pid, 'SIGTERM');
  const killAt = Date.now() + 10_000;
  // Bounded, should the server not go (the port check then says what holds the port).
  const giveUpAt = killAt + 5_000;
  // Waits on the process itself, not on sameServer: an exiting process reads an empty command line
  // (its memory is gone) while it still holds its sockets, and the next server would find the port taken.
  while (stillRunning(marker) && Date.now() < giveUpAt) {
    if (Date.now() > killAt) process.kill(marker.pid, 'SIGKILL');
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

/**
 * Whether the marker's server still runs: the process it names (stillRunning), and a Temporal dev
 * server on exactly that file.
 */
function sameServer(marker: Marker): boolean {
  if (!stillRunning(marker)) return false;
  const args = commandLine(marker.pid);
  const db = args.indexOf('--db-filename');
  return args.includes('start-dev') && db >= 0 && args[db + 1] === marker.dbFile;
}

/** The marker's process: its pid alive, started when the marker says, in this boot. A pid is reused; a start time is not. */
function stillRunning(marker: Marker): boolean {
  if (!running(marker.pid)) return false;
  if (marker.bootId !== undefined && marker.bootId !== bootId()) return false;
  return marker.startedAt === undefined || marker.startedAt === startTime(marker.pid);
}

/** A process's arguments (Linux's /proc); none where there is nothing to read. */
function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** When a process started, in clock ticks since boot (field 22 of /proc/<pid>/stat). */
function startTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}
