import { spawnSync, type ChildProcess } from 'node:child_process';
import { findOnPath } from './find-on-path.js';

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
export function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((done) => {
    if (exited(child)) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Each whole line a child writes to `stream`: a chunk can end mid-line (the rest waits for the
 * next one) or mid-character (decoded as a stream), and a last line without its newline (a crash
 * message) still counts once the stream ends.
 */
export function followLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    parts.forEach(onLine);
  });
  stream.on('end', () => onLine(partial));
}

/**
 * A command that dies with this process (Linux's parent-death signal, through util-linux's
 * `setpriv`, where it is installed): a child left running by a worker killed with SIGKILL would go
 * on beside the retry Temporal gives its job elsewhere.
 */
export function tiedToThisProcess(command: string, args: string[], pathValue = process.env.PATH ?? ''): [string, string[]] {
  const setpriv = findOnPath('setpriv', pathValue);
  return setpriv && takesDeathSignal(setpriv) ? [setpriv, ['--pdeathsig', 'SIGTERM', '--', command, ...args]] : [command, args];
}

/**
 * `command` in a process group of its own, in this process's session, tied to this process as
 * tiedToThisProcess ties it; undefined where that cannot be had (no perl, no setpriv with a
 * parent-death signal). Not Node's `detached`: that also starts a new session, out of reach of
 * whoever manages this process by its session (`pgrep -s`, a session's hang-up). Perl (perl-base,
 * which Debian always installs) moves it with setpgrp and execs the rest, so its pid is the
 * command's and its parent this process.
 */
export function inOwnProcessGroup(command: string, args: string[], pathValue = process.env.PATH ?? ''): [string, string[]] | undefined {
  const perl = findOnPath('perl', pathValue);
  const [tied, tiedArgs] = tiedToThisProcess(command, args, pathValue);
  if (!perl || tied === command) return undefined;
  return [
    perl,
    ['-e', 'setpgrp(0, 0) or die "setpgrp: $!\\n"; exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\\n"', '--', tied, ...tiedArgs],
  ];
}

/** Whether this `setpriv` has `--pdeathsig` (util-linux 2.33 on; an older one would refuse the option and run nothing). */
const deathSignalSupport = new Map<string, boolean>();
function takesDeathSignal(setpriv: string): boolean {
  let known = deathSignalSupport.get(setpriv);
  if (known === undefined) {
    const help = spawnSync(setpriv, ['--help'], { encoding: 'utf8', timeout: 5_000 });
    known = `${help.stdout ?? ''}${help.stderr ?? ''}`.includes('--pdeathsig');
    deathSignalSupport.set(setpriv, known);
  }
  return known;
}
