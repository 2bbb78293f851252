import type { Client, Connection } from '@temporalio/client';
import { JOB_SEARCH_ATTRIBUTES } from '../shared/search-attributes.js';
import { pollUntil } from '../process/poll-until.js';

const ALREADY_EXISTS = 6;
/** temporal.api.enums.v1.IndexedValueType, without importing the proto package. */
const INDEXED_VALUE_TYPE = { KEYWORD: 2, DATETIME: 6 } as const;

/**
 * Create the job search attributes if the namespace lacks them. Idempotent and safe to race:
 * every API and worker process calls it at start, on any cluster.
 */
export async function registerSearchAttributes(client: Client): Promise<void> {
  // A Client built by connectClient always holds a full Connection, which has the operator service.
  const connection = client.connection as Connection;
  const namespace = client.options.namespace;
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = JOB_SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length === 0) return;
  const searchAttributes: Record<string, number> = {};
  for (const key of missing) {
    searchAttributes[key.name] = key.type === 'DATETIME' ? INDEXED_VALUE_TYPE.DATETIME : INDEXED_VALUE_TYPE.KEYWORD;
  }
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
  }
  // The frontend takes a new attribute a moment after it is added (its namespace cache): a
  // schedule created meanwhile is refused ("no mapping defined"). Ready once a query may name it.
  const probe = missing.map((key) => `${key.name} IS NULL`).join(' AND ');
  await pollUntil(
    () =>
      client.workflow.count(probe).then(
        () => true,
        () => false,
      ),
    {
      timeoutMs: 30_000,
      intervalMs: 200,
      timeoutMessage: () => `search attributes ${missing.map((k) => k.name).join(', ')} were added but not usable after 30 s`,
    },
  );
}
