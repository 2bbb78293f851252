import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { createServiceLogger, SERVICE_LOG_FILE } from '../../src/logs/service-logger.js';

const dir = mkdtempSync(join(tmpdir(), 'jobservice-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const LOGGERS = 'job_loggers: [{name: STD_OUTPUT}]\nloggers: [{name: STD_OUTPUT}]\n';

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the configuration to be refused');
};

describe('configuration', () => {
  it('has defaults that need no file', () => {
    const config = loadConfig({ argv: [], env: {} });
    assert.equal(config.protocol, 'http');
    assert.equal(config.port, 8080);
    assert.equal(config.worker_pool.workers, 10);
    assert.equal(config.max_retrieve_size_mb, 10);
    assert.equal(config.temporal.namespace, 'default');
    assert.equal(config.temporal.dev_server.db_file, 'data/temporal.db');
    assert.deepEqual(
      config.job_loggers.map((l) => l.name),
      ['FILE', 'STD_OUTPUT'],
    );
    assert.equal(config.core_secret, undefined);
    assert.equal(config.temporal.eager_start, true);
    assert.equal(config.temporal.dev_server.go_gc, 'off');
    assert.equal(config.temporal.dev_server.go_memory_limit, '2GiB');
    assert.equal(config.temporal.dev_server.visibility_indexes, 'lean');
  });

  it("takes the embedded server's visibility_indexes as lean or all and refuses anything else", () => {
    const read = (value: string) => () =>
      loadConfig({
        argv: [
          '-c',
          file(
            'indexes.yaml',
            `job_loggers: [{name: STD_OUTPUT}]\nloggers: [{name: STD_OUTPUT}]\ntemporal: {dev_server: {visibility_indexes: ${value}}}\n`,
          ),
        ],
        env: {},
      });
    assert.equal(read('all')().temporal.dev_server.visibility_indexes, 'all');
    for (const bad of ['none', 'LEAN', 'true', '1']) {
      assert.match(problemsOf(read(bad)).join('\n'), /temporal\.dev_server\.visibility_indexes/, `visibility_indexes: ${bad}`);
    }
  });

  it('refuses a task queue that could not go into a visibility query as it is', () => {
    for (const good of ['harbor-jobs.prod:1', 'Harbor Jobs', 'jöbs#1']) {
      assert.equal(loadConfig({ argv: [], env: { JOB_SERVICE_TASK_QUEUE: good } }).temporal.task_queue, good);
    }
    for (const bad of ["jobs' OR 'a' = 'a", 'jobs\\', 'jobs\nq', 'x'.repeat(1001)]) {
      assert.match(
        problemsOf(() => loadConfig({ argv: [], env: { JOB_SERVICE_TASK_QUEUE: bad } })).join('\n'),
        /temporal\.task_queue/,
        bad,
      );
    }
  });

  it('refuses a Temporal client certificate without its key (or a key without its certificate)', () => {
    const problems = problemsOf(() => loadConfig({ argv: [], env: { TEMPORAL_TLS_CLIENT_CERT_PATH: '/etc/tls/client.crt' } }));
    assert.match(problems.join('\n'), /temporal\.tls.*client_cert and client_key go together/);
    const keyOnly = problemsOf(() => loadConfig({ argv: ['-c', file('key.yaml', 'temporal: {tls: {client_key: /k.pem}}\n')], env: {} }));
    assert.match(keyOnly.join('\n'), /client_cert and client_key go together/);
  });

  it('reads job.sealing_keys from the file or JOB_SERVICE_SEALING_KEYS (comma-separated), and refuses short keys', () => {
    assert.deepEqual(loadConfig({ argv: [], env: {} }).job.sealing_keys, []);
    const fromEnv = loadConfig({ argv: [], env: { JOB_SERVICE_SEALING_KEYS: 'new-key-0123456789abcdef, old-key-0123456789abcdef' } });
    assert.deepEqual(fromEnv.job.sealing_keys, ['new-key-0123456789abcdef', 'old-key-0123456789abcdef']);
    const fromFile = loadConfig({
      argv: [
        '-c',
        file(
          'keys.yaml',
          'loggers: [{name: STD_OUTPUT, level: INFO}]\njob_loggers: [{name: STD_OUTPUT, level: INFO}]\njob: {sealing_keys: [file-key-0123456789abcdef]}\n',
        ),
      ],
      env: {},
    });
    assert.deepEqual(fromFile.job.sealing_keys, ['file-key-0123456789abcdef']);
    const short = problemsOf(() => loadConfig({ argv: [], env: { JOB_SERVICE_SEALING_KEYS: 'new-key-0123456789abcdef,,short' } }));
    assert.match(short.join('\n'), /job\.sealing_keys\.1 \(set by JOB_SERVICE_SEALING_KEYS\): use a key of 16 characters or more/);
    assert.match(short.join('\n'), /job\.sealing_keys\.2/);
  });

  it('refuses an eager_start that is not a boolean', () => {
    const problems = problemsOf(() => loadConfig({ argv: ['-c', file('eager.yaml', 'temporal: {eager_start: sometimes}\n')], env: {} }));
    assert.match(problems.join('\n'), /temporal\.eager_start/);
  });

  it("takes the embedded server's Go GC settings in Go's own forms and refuses others", () => {
    const ok = loadConfig({
      argv: [
        '-c',
        file(
          'gc.yaml',
          'job_loggers: [{name: STD_OUTPUT}]\nloggers: [{name: STD_OUTPUT}]\ntemporal: {dev_server: {go_gc: 100, go_memory_limit: 512MiB}}\n',
        ),
      ],
      env: {},
    });
    assert.equal(ok.temporal.dev_server.go_gc, '100');
    assert.equal(ok.temporal.dev_server.go_memory_limit, '512MiB');
    const problems = problemsOf(() =>
      loadConfig({ argv: ['-c', file('bad-gc.yaml', 'temporal: {dev_server: {go_gc: -1, go_memory_limit: 2GB}}\n')], env: {} }),
    ).join('\n');
    assert.match(problems, /temporal\.dev_server\.go_gc: 'off' or a percentage/);
    assert.match(problems, /temporal\.dev_server\.go_memory_limit: a size such as 2GiB/);
    for (const bad of ['abc', '"0"', 'OFF', 'true', '1.5', '0']) {
      const text = problemsOf(() =>
        loadConfig({
          argv: [
            '-c',
            file(
              'bad-gc-value.yaml',
              `job_loggers: [{name: STD_OUTPUT}]\nloggers: [{name: STD_OUTPUT}]\ntemporal: {dev_server: {go_gc: ${bad}}}\n`,
            ),
          ],
          env: {},
        }),
      );
      assert.deepEqual(
        text.filter((p) => p.includes('go_gc')),
        ["temporal.dev_server.go_gc: 'off' or a percentage such as 100"],
        `go_gc: ${bad}`,
      );
    }
  });

  it('reads a Harbor-style YAML file given with -c', () => {
    const path = file(
      'harbor.yaml',
      `
protocol: "http"
port: 9443
worker_pool:
  workers: 4
  backend: "redis"
  redis_pool:
    redis_url: "localhost:6379"
    namespace: "harbor_job_service"
job_loggers:
  - name: "STD_OUTPUT"
    level: "debug"
  - name: "FILE"
    level: "INFO"
    settings:
      base_dir: "/tmp/job_logs"
    sweeper:
      duration: 3
      settings:
        work_dir: "/tmp/job_logs"
loggers:
  - name: "STD_OUTPUT"
    level: "INFO"
max_retrieve_size_mb: 2
metric:
  enabled: false
reaper:
  max_update_hours: 24
`,
    );
    const config = loadConfig({ argv: ['-c', path], env: {} });
    assert.equal(config.port, 9443);
    assert.equal(config.worker_pool.workers, 4);
    assert.equal(config.job_loggers[0]?.level, 'DEBUG');
    assert.equal(config.job_loggers[1]?.sweeper?.duration, 3);
    assert.equal(config.max_retrieve_size_mb, 2);
  });

  it("takes Harbor's reaper.max_update_hours above 24 as job.max_run_hours (a GC let run for days), unless that is set itself", () => {
    const loggers = 'job_loggers: [{name: STD_OUTPUT}]\nloggers: [{name: STD_OUTPUT}]\n';
    const load = (name: string, text: string) => loadConfig({ argv: ['-c', file(name, loggers + text)], env: {} }).job.max_run_hours;
    assert.equal(load('reaper-168.yaml', 'reaper: {max_update_hours: 168, max_dangling_hours: 168}\n'), 168);
    // Harbor ignores 24 and less.
    assert.equal(load('reaper-12.yaml', 'reaper: {max_update_hours: 12}\n'), 24);
    assert.equal(load('reaper-0.yaml', 'reaper: {max_update_hours: 0}\n'), 24);
    assert.equal(load('reaper-own.yaml', 'reaper: {max_update_hours: 168}\njob: {max_run_hours: 48}\n'), 48);
    assert.throws(() => load('reaper-text.yaml', 'reaper: {max_update_hours: "a week"}\n'), /reaper\.max_update_hours/);
  });

  it('an environment override does not drop a section the file wrote as something else (a list): it is refused as without it', () => {
    const loggers = 'job_loggers: [{name: STD_OUTPUT}]\nloggers: [{name: STD_OUTPUT}]\n';
    const temporal = file('temporal-list.yaml', `${loggers}temporal:\n  - address: temporal.example:7233\n`);
    assert.throws(() => loadConfig({ argv: ['-c', temporal], env: {} }), /temporal/);
    // It loaded without its address, and `npm start` started a dev server of its own instead.
    assert.throws(() => loadConfig({ argv: ['-c', temporal], env: { TEMPORAL_NAMESPACE: 'harbor' } }), /temporal/);
    const pool = file('pool-list.yaml', `${loggers}worker_pool:\n  - workers: 50\n    workflow_tasks: 400\n`);
    assert.throws(() => loadConfig({ argv: ['-c', pool], env: { JOB_SERVICE_POOL_WORKERS: '5' } }), /worker_pool/);
  });

  it('finds the file through JOB_SERVICE_CONFIG and --config=', () => {
    const path = file('port.yaml', 'port: 7000\njob_loggers: [{name: STD_OUTPUT}]\nloggers: [{name: STD_OUTPUT}]\n');
    assert.equal(loadConfig({ argv: [], env: { JOB_SERVICE_CONFIG: path } }).port, 7000);
    assert.equal(loadConfig({ argv: [`--config=${path}`], env: {} }).port, 7000);
  });

  it('lets Harbor environment names and Temporal SDK names override the file', () => {
    const config = loadConfig({
      argv: [],
      env: {
        JOB_SERVICE_PORT: '9090',
        JOB_SERVICE_PROTOCOL: 'http',
        JOB_SERVICE_POOL_WORKERS: '3',
        JOB_SERVICE_POOL_WORKFLOW_TASKS: '64',
        CORE_SECRET: 's3cret',
        TEMPORAL_ADDRESS: 'temporal.example:7233',
        TEMPORAL_NAMESPACE: 'jobs',
        JOB_SERVICE_TASK_QUEUE: 'harbor',
        TEMPORAL_API_KEY: 'key',
      },
    });
    assert.equal(config.port, 9090);
    assert.equal(config.worker_pool.workers, 3);
    assert.equal(config.worker_pool.workflow_tasks, 64);
    assert.equal(config.core_secret, 's3cret');
    assert.equal(config.temporal.address, 'temporal.example:7233');
    assert.equal(config.temporal.namespace, 'jobs');
    assert.equal(config.temporal.task_queue, 'harbor');
    assert.equal(config.temporal.api_key, 'key');
  });

  it('reports every problem at once, naming the field or variable', () => {
    const path = file(
      'bad.yaml',
      'protocol: ftp\nport: 70000\nworker_pool: {workers: 0, workflow_tasks: 1}\nloggers: []\nmystery: 1\njob: {stop_grace_seconds: -1}\n',
    );
    const problems = problemsOf(() => loadConfig({ argv: ['-c', path], env: {} }));
    const text = problems.join('\n');
    for (const field of [
      'protocol',
      'port',
      'worker_pool.workers',
      'worker_pool.workflow_tasks',
      'job_loggers',
      'loggers',
      'mystery',
      'job.stop_grace_seconds',
    ]) {
      assert.match(text, new RegExp(field.replace('.', '\\.')), `no problem names ${field}:\n${text}`);
    }
    // https without its files is one more problem of the same report, not one found only after the others are fixed.
    const https = problemsOf(() => loadConfig({ argv: ['-c', file('https.yaml', 'protocol: https\nport: 70000\n')], env: {} })).join('\n');
    assert.match(https, /port/);
    assert.match(https, /https_config: protocol https needs/);
    // Said once, whether or not it is the only problem.
    const alone = problemsOf(() => loadConfig({ argv: [], env: { JOB_SERVICE_PROTOCOL: 'https' } }));
    assert.equal(alone.filter((p) => /protocol https needs/.test(p)).length, 1, alone.join('\n'));
    // Harbor's DB job logger is refused with what to use instead.
    const db = problemsOf(() =>
      loadConfig({ argv: ['-c', file('db.yaml', 'job_loggers: [{name: DB}]\nloggers: [{name: STD_OUTPUT}]\n')], env: {} }),
    ).join('\n');
    assert.match(db, /job_loggers\.0\.name: Harbor's DB job logger .* use FILE/);
    // A FILE job logger without its directory would fail every run: refused here, with the others.
    const noDir = problemsOf(() =>
      loadConfig({
        argv: ['-c', file('nodir.yaml', 'job_loggers: [{name: FILE, level: INFO}]\nloggers: [{name: STD_OUTPUT}]\nport: 70000\n')],
        env: {},
      }),
    ).join('\n');
    assert.match(noDir, /job_loggers\.0\.settings\.base_dir: a FILE job logger needs settings\.base_dir/);
    assert.match(noDir, /port/);
    const envProblems = problemsOf(() => loadConfig({ argv: [], env: { JOB_SERVICE_PORT: '80a', JOB_SERVICE_POOL_WORKERS: '' } }));
    assert.match(envProblems.join('\n'), /JOB_SERVICE_PORT: expected a whole number/);
  });

  it('refuses https without readable certificate files', () => {
    const problems = problemsOf(() =>
      loadConfig({
        argv: [],
        env: { JOB_SERVICE_PROTOCOL: 'https', JOB_SERVICE_HTTPS_CERT: '/nope/cert.pem', JOB_SERVICE_HTTPS_KEY: '/nope/key.pem' },
      }),
    );
    assert.match(problems.join('\n'), /https_config\.cert \(set by JOB_SERVICE_HTTPS_CERT\): cannot read file \/nope\/cert\.pem/);
    assert.match(problems.join('\n'), /https_config\.key \(set by JOB_SERVICE_HTTPS_KEY\): cannot read file \/nope\/key\.pem/);
    assert.match(problemsOf(() => loadConfig({ argv: [], env: { JOB_SERVICE_PROTOCOL: 'https' } })).join(), /https_config/);
  });

  it('refuses certificate files that are not PEM, naming the option and the files', () => {
    const cert = file('not-cert.pem', 'hello\n');
    const key = file('not-key.pem', 'world\n');
    const problems = problemsOf(() =>
      loadConfig({ argv: [], env: { JOB_SERVICE_PROTOCOL: 'https', JOB_SERVICE_HTTPS_CERT: cert, JOB_SERVICE_HTTPS_KEY: key } }),
    ).join('\n');
    assert.match(
      problems,
      /^https_config \(set by JOB_SERVICE_HTTPS_CERT, JOB_SERVICE_HTTPS_KEY\): .*not-cert\.pem and .*not-key\.pem are not a PEM certificate and its key/m,
    );
  });

  it('reads JOB_SERVICE_HTTPS_CERT and _KEY only for https, as Harbor does', () => {
    const config = loadConfig({ argv: [], env: { JOB_SERVICE_HTTPS_CERT: '/nope/cert.pem' } });
    assert.equal(config.protocol, 'http');
    assert.equal(config.https_config, undefined);
  });

  it('refuses job.hook_allowed_hosts entries that can never match a host, naming the entry', () => {
    for (const entry of ['10.0.0.0/33', 'fd00::/129', 'core.harbor:8080', 'http://core.harbor', 'core harbor', '*.']) {
      const path = file('allow.yaml', `${LOGGERS}job: {hook_allowed_hosts: [${JSON.stringify(entry)}]}\n`);
      const problems = problemsOf(() => loadConfig({ argv: ['-c', path], env: {} })).join('\n');
      assert.ok(problems.includes(`job.hook_allowed_hosts.0: ${entry}: `), `${entry}: ${problems}`);
    }
    const good = ['core.harbor', 'Core.Harbor.', '*.harbor.test', 'harbor_core', '10.0.0.0/8', '10.1.2.3', 'fd00::/8', '::1'];
    const path = file('allow-good.yaml', `${LOGGERS}job: {hook_allowed_hosts: ${JSON.stringify(good)}}\n`);
    assert.deepEqual(loadConfig({ argv: ['-c', path], env: {} }).job.hook_allowed_hosts, good);
  });

  it('names the environment variable that set a value the schema refuses (the file was blamed, and it said port: 8080)', () => {
    const path = file('env-blamed.yaml', `${LOGGERS}port: 8080\nworker_pool: {workers: 10}\n`);
    const problems = problemsOf(() =>
      loadConfig({ argv: ['-c', path], env: { JOB_SERVICE_PORT: '70000', JOB_SERVICE_POOL_WORKERS: '0' } }),
    );
    assert.ok(
      problems.some((p) => /^port \(set by JOB_SERVICE_PORT\): .*65535/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /^worker_pool\.workers \(set by JOB_SERVICE_POOL_WORKERS\): /.test(p)),
      problems.join('\n'),
    );
    // A value from the file is named as before.
    const fromFile = problemsOf(() => loadConfig({ argv: ['-c', file('file-blamed.yaml', `${LOGGERS}port: 70000\n`)], env: {} }));
    assert.ok(
      fromFile.some((p) => /^port: /.test(p)),
      fromFile.join('\n'),
    );
  });

  it('refuses unreadable, non-YAML and non-mapping files', () => {
    assert.match(problemsOf(() => loadConfig({ argv: ['-c', join(dir, 'missing.yaml')], env: {} }))[0]!, /cannot read config file/);
    assert.match(problemsOf(() => loadConfig({ argv: ['-c', file('broken.yaml', 'port: [1,\n')], env: {} }))[0]!, /not valid YAML/);
    assert.match(problemsOf(() => loadConfig({ argv: ['-c', file('list.yaml', '- 1\n- 2\n')], env: {} }))[0]!, /mapping/);
  });

  it('is frozen once loaded', () => {
    const config = loadConfig({ argv: [], env: {} });
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.worker_pool as { workers: number }).workers = 1;
    }, TypeError);
  });

  for (const entry of ['src/api/main.ts', 'src/worker/main.ts']) {
    it(`${entry} prints every problem and exits non-zero on a bad config`, () => {
      const path = file('entry.yaml', 'port: 0\nprotocol: gopher\n');
      const result = spawnSync(process.execPath, ['--import', 'tsx', entry, '-c', path], {
        encoding: 'utf8',
        env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
        timeout: 30_000,
      });
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /invalid configuration/);
      assert.match(result.stderr, /port/);
      assert.match(result.stderr, /protocol/);
    });
  }

  it('the API refuses to start without CORE_SECRET', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/api/main.ts'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        CORE_SECRET: '',
        TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
        JOB_SERVICE_PORT: '1',
      },
      timeout: 30_000,
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /CORE_SECRET is not set/);
  });
  it('trims CORE_SECRET as the API trims what a client presents (a secret file’s trailing newline locked everyone out)', () => {
    assert.equal(loadConfig({ argv: [], env: { CORE_SECRET: 'harbor-core-secret\n' } }).core_secret, 'harbor-core-secret');
  });

  it("loads the seed README's logger example and core_server: a FILE service logger writes its lines under base_dir", () => {
    const logs = join(dir, 'service-logs');
    const path = file(
      'seed-loggers.yaml',
      `
job_loggers:
  - name: "STD_OUTPUT"
    level: "DEBUG"
loggers:
  - name: "STD_OUTPUT" # logger backend name, only support "FILE" and "STD_OUTPUT"
    level: "ERROR"
  - name: "FILE"
    level: "DEBUG"
    settings: # Customized settings of logger
      base_dir: "${logs}"
    sweeper:
      duration: 1 #days
      settings: # Customized settings of sweeper
        work_dir: "${logs}"
core_server: "http://core:8080"
`,
    );
    const config = loadConfig({ argv: ['-c', path], env: {} });
    assert.equal(config.core_server, 'http://core:8080');
    assert.equal(loadConfig({ argv: [], env: { CORE_URL: 'http://core.example' } }).core_server, 'http://core.example');
    const log = createServiceLogger(config.loggers, 'api');
    log.debug('a debug line');
    log.warning('a warning line');
    const written = readFileSync(join(logs, SERVICE_LOG_FILE), 'utf8');
    assert.match(written, /\[DEBUG\] api: a debug line\n/);
    assert.match(written, /\[WARNING\] api: a warning line\n/);
    // Harbor's own key names the file.
    const named = loadConfig({
      argv: [
        '-c',
        file(
          'named.yaml',
          `job_loggers: [{name: STD_OUTPUT}]\nloggers: [{name: FILE, settings: {base_dir: ${logs}, filename: svc.log}}]\n`,
        ),
      ],
      env: {},
    });
    createServiceLogger(named.loggers, 'worker').info('named');
    assert.match(readFileSync(join(logs, 'svc.log'), 'utf8'), /\[INFO\] worker: named\n/);
  });

  it('refuses a client_ca that is not PEM certificates (Node took a DER file silently, and every client handshake failed)', () => {
    const at = (name: string) => join(dir, name);
    spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      at('ca-k.pem'),
      '-out',
      at('ca-c.pem'),
    ]);
    spawnSync('openssl', ['x509', '-in', at('ca-c.pem'), '-outform', 'DER', '-out', at('ca.der')]);
    const env = (ca: string) => ({
      JOB_SERVICE_PROTOCOL: 'https',
      JOB_SERVICE_HTTPS_CERT: at('ca-c.pem'),
      JOB_SERVICE_HTTPS_KEY: at('ca-k.pem'),
      INTERNAL_VERIFY_CLIENT_CERT: 'true',
      INTERNAL_TLS_TRUST_CA_PATH: ca,
    });
    assert.match(
      problemsOf(() => loadConfig({ argv: [], env: env(at('ca.der')) })).join('\n'),
      /client_ca \(set by INTERNAL_TLS_TRUST_CA_PATH\): .*ca\.der holds no PEM certificate/,
    );
    assert.equal(loadConfig({ argv: [], env: env(at('ca-c.pem')) }).https_config?.client_ca, at('ca-c.pem'));
  });
  it('-c without a path is an error, not the defaults (JOB_SERVICE_CONFIG was ignored too)', () => {
    const path = file('given.yaml', LOGGERS);
    for (const argv of [['-c'], ['--config'], ['-c', '--other']]) {
      assert.match(
        problemsOf(() => loadConfig({ argv, env: { JOB_SERVICE_CONFIG: path } })).join('\n'),
        /needs the path of a configuration file/,
      );
    }
  });
});
