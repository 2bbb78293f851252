import { accessSync, constants, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type Config } from './config-schema.js';

/** Every problem found in the configuration, reported together. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  argv?: readonly string[];
  env?: Record<string, string | undefined>;
}

/** The configuration used when no file is given: what `npm start` needs on a fresh clone. */
export const DEFAULT_CONFIG_DOCUMENT = {
  job_loggers: [
    { name: 'FILE', level: 'INFO', settings: { base_dir: 'data/job_logs' }, sweeper: { duration: 1 } },
    { name: 'STD_OUTPUT', level: 'INFO' },
  ],
  loggers: [{ name: 'STD_OUTPUT', level: 'INFO' }],
};

type Override = { env: string; path: string[]; kind: 'string' | 'int' | 'bool' | 'list' };

/** Harbor's environment names where they exist, the Temporal SDK's for the cluster connection. */
const ENV_OVERRIDES: Override[] = [
  { env: 'JOB_SERVICE_PROTOCOL', path: ['protocol'], kind: 'string' },
  { env: 'JOB_SERVICE_PORT', path: ['port'], kind: 'int' },
  { env: 'JOB_SERVICE_HOST', path: ['host'], kind: 'string' },
  { env: 'JOB_SERVICE_HTTPS_CERT', path: ['https_config', 'cert'], kind: 'string' },
  { env: 'JOB_SERVICE_HTTPS_KEY', path: ['https_config', 'key'], kind: 'string' },
  { env: 'INTERNAL_VERIFY_CLIENT_CERT', path: ['https_config', 'verify_client_cert'], kind: 'bool' },
  { env: 'INTERNAL_TLS_TRUST_CA_PATH', path: ['https_config', 'client_ca'], kind: 'string' },
  { env: 'JOB_SERVICE_POOL_WORKERS', path: ['worker_pool', 'workers'], kind: 'int' },
  { env: 'JOB_SERVICE_POOL_WORKFLOW_TASKS', path: ['worker_pool', 'workflow_tasks'], kind: 'int' },
  { env: 'JOB_SERVICE_POOL_WORKFLOW_WATCHDOG', path: ['worker_pool', 'workflow_watchdog'], kind: 'bool' },
  { env: 'CORE_SECRET', path: ['core_secret'], kind: 'string' },
  { env: 'CORE_URL', path: ['core_server'], kind: 'string' },
  { env: 'TEMPORAL_ADDRESS', path: ['temporal', 'address'], kind: 'string' },
  { env: 'TEMPORAL_NAMESPACE', path: ['temporal', 'namespace'], kind: 'string' },
  { env: 'TEMPORAL_API_KEY', path: ['temporal', 'api_key'], kind: 'string' },
  { env: 'TEMPORAL_TLS_CLIENT_CERT_PATH', path: ['temporal', 'tls', 'client_cert'], kind: 'string' },
  { env: 'TEMPORAL_TLS_CLIENT_KEY_PATH', path: ['temporal', 'tls', 'client_key'], kind: 'string' },
  { env: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', path: ['temporal', 'tls', 'server_ca_cert'], kind: 'string' },
  { env: 'TEMPORAL_TLS_SERVER_NAME', path: ['temporal', 'tls', 'server_name'], kind: 'string' },
  { env: 'JOB_SERVICE_TASK_QUEUE', path: ['temporal', 'task_queue'], kind: 'string' },
  { env: 'JOB_SERVICE_GC_REGISTRY_CONFIG', path: ['garbage_collection', 'registry_config'], kind: 'string' },
  { env: 'JOB_SERVICE_GC_STORAGE_DIR', path: ['garbage_collection', 'storage_dir'], kind: 'string' },
  { env: 'JOB_SERVICE_HOOK_SECRET', path: ['job', 'hook_secret'], kind: 'string' },
  { env: 'JOB_SERVICE_SEALING_KEYS', path: ['job', 'sealing_keys'], kind: 'list' },
];

/** `-c path` / `--config path` on the command line, else JOB_SERVICE_CONFIG. */
export function configPathFrom(argv: readonly string[], env: Record<string, string | undefined>): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-c' || arg === '--config') {
      const path = argv[i + 1];
      // A flag without its path would otherwise load the defaults, ignoring JOB_SERVICE_CONFIG too.
      if (!path || path.startsWith('-')) throw new ConfigError([`${arg} needs the path of a configuration file`]);
      return path;
    }
    if (arg?.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return env.JOB_SERVICE_CONFIG || undefined;
}

/** Read, merge and validate the configuration once; the result is frozen. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const path = configPathFrom(options.argv ?? process.argv.slice(2), env);
  const problems: string[] = [];

  let document: Record<string, unknown> = structuredClone(DEFAULT_CONFIG_DOCUMENT);
  if (path !== undefined) {
    const read = readYaml(path);
    if (typeof read === 'string') throw new ConfigError([read]);
    document = read;
  }

  /** The variable that set each overridden path, so a problem with its value names where it came from. */
  const setBy = new Map<string, string>();
  for (const override of ENV_OVERRIDES) {
    const raw = env[override.env];
    if (raw === undefined || raw === '') continue;
    setBy.set(override.path.join('.'), override.env);
    // Harbor reads the certificate variables only for https: set for http, they change nothing.
    if (override.path[0] === 'https_config' && httpsProtocol(document, env) !== 'https') continue;
    if (override.kind === 'int') {
      if (!/^\d+$/.test(raw.trim())) {
        problems.push(`${override.env}: expected a whole number, got ${JSON.stringify(raw)}`);
        continue;
      }
      setPath(document, override.path, Number(raw.trim()));
    } else if (override.kind === 'bool') {
      const value = raw.trim().toLowerCase();
      if (value !== 'true' && value !== 'false') {
        problems.push(`${override.env}: expected true or false, got ${JSON.stringify(raw)}`);
        continue;
      }
      setPath(document, override.path, value === 'true');
    } else if (override.kind === 'list') {
      // Comma-separated; blanks around an entry are not part of it.
      setPath(
        document,
        override.path,
        raw.split(',').map((entry) => entry.trim()),
      );
    } else {
      setPath(document, override.path, raw);
    }
  }

  // Harbor's reaper fails a job not updated for `max_update_hours` (values up to its default 24
  // ignored): raised, it is how a Harbor operator lets a GC run for days. Here a run's limit is
  // job.max_run_hours, which it raises unless that is set itself.
  const reaper = document.reaper as Record<string, unknown> | undefined;
  const job = document.job as Record<string, unknown> | undefined;
  const reaperHours = reaper !== null && typeof reaper === 'object' ? reaper.max_update_hours : undefined;
  if (
    typeof reaperHours === 'number' &&
    reaperHours > 24 &&
    (job === undefined || job === null || (typeof job === 'object' && job.max_run_hours === undefined))
  ) {
    setPath(document, ['job', 'max_run_hours'], reaperHours);
  }

  /** A path as a problem names it, with the variable that set its value, if one did. */
  const named = (path: string) => (setBy.has(path) ? `${path} (set by ${setBy.get(path)})` : path);
  const parsed = ConfigSchema.safeParse(document);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
      // The value at the path, or the one it is part of (a list's entry), came from the environment.
      const fromEnv = issue.path
        .map((_, i) => setBy.get(issue.path.slice(0, issue.path.length - i).join('.')))
        .find((name) => name !== undefined);
      problems.push(`${where}${fromEnv ? ` (set by ${fromEnv})` : ''}: ${issue.message}`);
    }
    // The schema checks this only once everything else is valid; a report of every problem says it too.
    const https = 'https_config: protocol https needs https_config.cert and https_config.key';
    if (document.protocol === 'https' && document.https_config === undefined && !problems.includes(https)) problems.push(https);
  }
  if (parsed.success && parsed.data.protocol === 'https' && parsed.data.https_config) {
    const { cert, key, client_ca } = parsed.data.https_config;
    const unreadable = Object.entries({ cert, key, ...(client_ca ? { client_ca } : {}) }).filter(([, file]) => !readable(file));
    for (const [name, file] of unreadable) problems.push(`${named(`https_config.${name}`)}: cannot read file ${file}`);
    if (unreadable.length === 0) {
      // A file that is not a PEM certificate and its key would only fail as the server starts, in OpenSSL's words.
      try {
        createSecureContext({ cert: readFileSync(cert), key: readFileSync(key) });
      } catch (err) {
        const from = [setBy.get('https_config.cert'), setBy.get('https_config.key')].filter(Boolean);
        problems.push(
          `https_config${from.length > 0 ? ` (set by ${from.join(', ')})` : ''}: ${cert} and ${key} are not a PEM certificate and its key: ${(err as Error).message}`,
        );
      }
      // Node takes a CA file it cannot read as certificates (DER, a key) without a word, and every
      // client's handshake then fails: each must be a PEM certificate.
      const caProblem = client_ca ? pemCertificatesProblem(readFileSync(client_ca, 'utf8')) : undefined;
      if (caProblem) problems.push(`${named('https_config.client_ca')}: ${client_ca} ${caProblem}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return deepFreeze(parsed.data);
}

/** The protocol the configuration will have: the environment's override, else the file's. */
function httpsProtocol(document: Record<string, unknown>, env: Record<string, string | undefined>): unknown {
  return env.JOB_SERVICE_PROTOCOL || document.protocol;
}

function readYaml(path: string): Record<string, unknown> | string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return `cannot read config file ${path}: ${(err as Error).message}`;
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    return `config file ${path} is not valid YAML: ${(err as Error).message}`;
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return `config file ${path} must hold a mapping`;
  return value as Record<string, unknown>;
}

/**
 * Sets the value at `path`, making the mappings on the way that are missing. A section the file
 * gave as something else (a list: a stray `-`) stays as written, so the schema refuses it as it
 * would without the variable, rather than the override dropping it (and its other settings) silently.
 */
function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null) node[key] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) return;
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Why a CA file is not one or more PEM certificates, or undefined when it is. */
function pemCertificatesProblem(text: string): string | undefined {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)';
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `holds a certificate that cannot be read: ${(err as Error).message}`;
    }
  }
  return undefined;
}
