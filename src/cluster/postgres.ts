import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export interface PostgresOptions {
  /** Data directory (created and initialised when empty). */
  dir: string;
  port: number;
  log: (line: string) => void;
}

export interface Postgres {
  port: number;
  /** psql as the superuser, for set-up statements. */
  sql(statement: string, database?: string): string;
  /** Starts the server; false when one was already running in its data directory (left as it is). */
  start(): Promise<boolean>;
  /** Fast shutdown: committed transactions are on disk, open connections are cut. */
  stop(): Promise<void>;
}

const POSTGRES_USER = 'postgres';
const execFileAsync = promisify(execFile);

/**
 * A PostgreSQL instance of our own (Debian's packages, installed where missing), in a data
 * directory under ./data, on its own port and socket: it never touches a system cluster. The
 * server refuses to run as root, so under root it runs as the `postgres` user.
 */
export function preparePostgres(options: PostgresOptions): Postgres {
  const bin = postgresBin(options.log);
  const dir = resolve(options.dir);
  const asRoot = process.getuid?.() === 0;
  const argv = (tool: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', POSTGRES_USER, '--', join(bin, tool), ...args]] : [join(bin, tool), args];
  const run = (tool: string, args: string[], quiet = false) => {
    const [command, list] = argv(tool, args);
    const result = spawnSync(command, list, { encoding: 'utf8', cwd: '/' });
    if (result.status !== 0 && !quiet) {
      throw new Error(`${tool} ${args.join(' ')} failed (exit ${result.status}): ${result.stderr || result.stdout}`);
    }
    return result;
  };
  // Starting and stopping take seconds: never block the event loop (the chaos suite's callers run meanwhile).
  const runAsync = async (tool: string, args: string[], quiet = false) => {
    const [command, list] = argv(tool, args);
    try {
      await execFileAsync(command, list, { encoding: 'utf8', cwd: '/' });
    } catch (err) {
      if (!quiet) throw new Error(`${tool} ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr || (err as Error).message}`);
    }
  };

  if (!existsSync(join(dir, 'PG_VERSION'))) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (asRoot) {
      const reach = spawnSync('runuser', ['-u', POSTGRES_USER, '--', 'test', '-x', dirname(dir)]);
      if (reach.status !== 0)
        throw new Error(`the ${POSTGRES_USER} user cannot reach ${dirname(dir)}: make it and its parents searchable (chmod o+x)`);
      const { uid, gid } = serverUser(asRoot);
      chownSync(dir, uid, gid);
    }
    options.log(`initialising PostgreSQL in ${dir}`);
    // The superuser only through its own socket (socketDirectory; set-up statements); over TCP
    // every role needs its password, so another local user cannot connect as the superuser.
    run('initdb', ['-D', dir, '-U', POSTGRES_USER, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-instructions']);
  }

  const socketDir = socketDirectory(dir, asRoot);
  const pg: Postgres = {
    port: options.port,
    sql(statement, database = 'postgres') {
      const result = run('psql', ['-h', socketDir, '-p', String(options.port), '-U', POSTGRES_USER, '-d', database, '-tAc', statement]);
      return result.stdout.trim();
    },
    async start() {
      if (run('pg_ctl', ['-D', dir, 'status'], true).status === 0) return false;
      // A stop removes the socket's directory: a start after it (the chaos suite's restart) makes it again.
      socketDirectory(dir, asRoot);
      options.log(`starting PostgreSQL on 127.0.0.1:${options.port}`);
      await runAsync('pg_ctl', [
        '-D',
        dir,
        '-w',
        '-t',
        '60',
        '-l',
        join(dir, 'server.log'),
        '-o',
        // pg_ctl hands this to a shell: the socket directory is quoted.
        `-p ${options.port} -k '${socketDir.replaceAll("'", "'\\''")}' -c listen_addresses=127.0.0.1 -c max_connections=300`,
        'start',
      ]);
      return true;
    },
    async stop() {
      if (run('pg_ctl', ['-D', dir, 'status'], true).status === 0) await runAsync('pg_ctl', ['-D', dir, '-w', '-m', 'fast', 'stop'], true);
      // Empty once the server is down (it removes its socket); left in place if it is not.
      try {
        rmdirSync(socketDir);
      } catch {
        // Still in use, or gone already.
      }
    },
  };
  return pg;
}

/**
 * Where the server's Unix socket goes: a directory of its own under the temporary directory, named
 * after the data directory. A socket's path is limited to 107 bytes, and one inside the data
 * directory kept a checkout deeper than ~76 characters from starting. Only the server's user may
 * enter it (the superuser connects through it without a password).
 */
function socketDirectory(dataDir: string, asRoot: boolean): string {
  const socketDir = join(tmpdir(), `jobservice-pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  const owner = serverUser(asRoot);
  if (!existsSync(socketDir)) {
    mkdirSync(socketDir, { mode: 0o700 });
    if (asRoot) chownSync(socketDir, owner.uid, owner.gid);
  }
  const stat = statSync(socketDir);
  if (stat.uid !== owner.uid || (stat.mode & 0o077) !== 0) {
    throw new Error(
      `${socketDir} is not the PostgreSQL user's alone (owner ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}): remove it`,
    );
  }
  return socketDir;
}

/** The user the server runs as: `postgres` under root (it refuses to run as root), else this process's. */
function serverUser(asRoot: boolean): { uid: number; gid: number } {
  if (!asRoot) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const id = (flag: string) => Number(execFileSync('id', [flag, POSTGRES_USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** The newest installed PostgreSQL's bin directory; installs Debian's package when there is none and we may. */
function postgresBin(log: (line: string) => void): string {
  const found = newestBin();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error('PostgreSQL is not installed: run `apt-get install -y postgresql` as root, then npm run cluster again');
  }
  log('PostgreSQL is not installed; apt-get install -y postgresql …');
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const installed = newestBin();
  if (!installed) throw new Error('apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb was found');
  return installed;
}

function newestBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && statSync(join(root, v)).isDirectory())
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}
