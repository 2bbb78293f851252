import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TemporalClusterOptions } from './temporal-cluster.js';

export const DB_USER = 'temporal';
export const DB_PASSWORD = 'temporal';

/** Databases and schemas, created once and migrated to this server version on every start (idempotent). */
export function prepareDatabases({ tools, postgres, log }: TemporalClusterOptions): void {
  const role = postgres.sql(`SELECT 1 FROM pg_roles WHERE rolname = '${DB_USER}'`);
  if (role !== '1') postgres.sql(`CREATE ROLE ${DB_USER} LOGIN CREATEDB PASSWORD '${DB_PASSWORD}'`);
  for (const [database, schema] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const sqlTool = (...args: string[]) => {
      const result = spawnSync(
        tools.sqlTool,
        [
          '--plugin',
          'postgres12',
          '--ep',
          '127.0.0.1',
          '-p',
          String(postgres.port),
          '-u',
          DB_USER,
          '--pw',
          DB_PASSWORD,
          '--db',
          database,
          ...args,
        ],
        { encoding: 'utf8' },
      );
      if (result.status !== 0)
        throw new Error(`temporal sql tool ${args.join(' ')} on ${database} failed: ${result.stderr || result.stdout}`);
    };
    const exists = postgres.sql(`SELECT 1 FROM pg_database WHERE datname = '${database}'`) === '1';
    if (!exists) {
      log(`creating database ${database} and its schema`);
      sqlTool('create-database');
      sqlTool('setup-schema', '-v', '0.0');
    }
    sqlTool('update-schema', '-d', join(tools.schemaDir, schema, 'versioned'));
  }
}
