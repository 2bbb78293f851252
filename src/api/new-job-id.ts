import { randomFillSync } from 'node:crypto';

const ID_BYTES = 12;
const POOL = Buffer.alloc(ID_BYTES * 256);
let used = POOL.length;

/**
 * A new job id in Harbor's form (24 lowercase hex characters, 96 random bits), cut from a pool of
 * random bytes refilled every 256 ids, as Node pools the entropy of randomUUID: one randomBytes
 * call per submit cost ~5 µs idle and more under load, a cut from the pool ~0.3 µs.
 */
export function newJobId(): string {
  if (used === POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  const id = POOL.toString('hex', used, used + ID_BYTES);
  used += ID_BYTES;
  return id;
}
