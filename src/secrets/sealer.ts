import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { isSealed, isSecretKey, redactText, redactValue, SEALED, SEALED_PREFIX } from '../shared/redact.js';

/**
 * Secrets a job was submitted with are sealed before they reach Temporal: a workflow's input, a
 * schedule's action, an activity's arguments and a sub job's start are stored in history and shown
 * by the Web UI and `temporal workflow show` to anyone who can read the namespace. Each value the
 * redactor would hide (see shared/redact.ts) is replaced by `sealed:v1:<key id>:<base64url>`
 * (AES-256-GCM of its JSON); the rest of the parameters stay readable. The worker unseals them as
 * the job's code starts, and as a hook is posted. Keys come from `job.sealing_keys`: the first
 * seals, every one unseals, so a key can be rotated in without stranding jobs sealed with the last.
 *
 * Not workflow code (node:crypto): the workflow passes sealed values along untouched.
 */
export interface Sealer {
  /** The key new values are sealed with (undefined: nothing is sealed, values stay as given). */
  readonly keyId: string | undefined;
  sealParameters(parameters: Record<string, unknown>): Record<string, unknown>;
  /** A hook URL (or any text): sealed whole when it holds a secret. */
  sealText(text: string): string;
  unsealParameters(parameters: Record<string, unknown>): Record<string, unknown>;
  unsealText(text: string): string;
  /**
   * Stored parameters (sealed by this service) brought to today's sealing: what an older key sealed
   * is sealed again under the first (a rotation), and a secret stored as given (before sealing was
   * configured) is sealed; what is already sealed under the first key stays as it is. The value
   * itself when nothing changes.
   */
  resealParameters(parameters: Record<string, unknown>): Record<string, unknown>;
  resealText(text: string): string;
  /**
   * A digest of `text` keyed with the sealing key (HMAC-SHA256, hex): stable across the API's
   * replicas, and no one without the key can test a guess of what went in. Undefined when nothing
   * is sealed (secrets are stored as given then, so a keyed digest would hide nothing).
   */
  keyedDigest(text: string): string | undefined;
}

/** A sealed value this process cannot open: its key is not among `job.sealing_keys`, or it was altered. */
export class UnsealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsealError';
  }
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

interface Key {
  id: string;
  bytes: Buffer;
}

function deriveKey(secret: string): Key {
  return {
    id: createHash('sha256').update(`jobservice sealing key id\0${secret}`).digest('hex').slice(0, 8),
    bytes: createHash('sha256').update(`jobservice sealing key\0${secret}`).digest(),
  };
}

export function createSealer(secrets: readonly string[]): Sealer {
  const keys = secrets.map(deriveKey);
  const sealing = keys[0];
  const digestKey = secrets[0] === undefined ? undefined : createHash('sha256').update(`jobservice digest key\0${secrets[0]}`).digest();
  const byId = new Map(keys.map((k) => [k.id, k] as const));

  const seal = (value: unknown): string => {
    if (!sealing) return value as string;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', sealing.bytes, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return `${SEALED_PREFIX}${sealing.id}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  };

  const open = (envelope: string): unknown => {
    const match = SEALED.exec(envelope);
    if (!match) throw new UnsealError('a sealed parameter is malformed');
    const key = byId.get(match[1]!);
    if (!key) {
      throw new UnsealError(
        keys.length === 0
          ? `a parameter is sealed with key ${match[1]}, and this process has no job.sealing_keys`
          : `a parameter is sealed with key ${match[1]}, which is not among this process's job.sealing_keys (${keys.map((k) => k.id).join(', ')})`,
      );
    }
    const raw = Buffer.from(match[2]!, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as unknown;
    } catch {
      throw new UnsealError(`a parameter sealed with key ${key.id} does not open: it was altered`);
    }
  };

  /**
   * Mirrors redactValue: whatever it would hide is sealed, and so is a value that looks sealed
   * already (opened, it is itself). The value itself when nothing in it is secret (a submit's hot path).
   */
  const sealValue = (value: unknown, key?: string): unknown => {
    if (key !== undefined && isSecretKey(key)) return sealLeaves(value);
    if (typeof value === 'string') return isSealed(value) || redactValue(value) !== value ? seal(value) : value;
    return mapChildren(value, key, sealValue);
  };

  /** Under a secret-named key every non-empty string and every number is sealed, however deep (redactValue's hideLeaves). */
  const sealLeaves = (value: unknown): unknown =>
    (typeof value === 'string' && value !== '') || typeof value === 'number' ? seal(value) : mapChildren(value, undefined, sealLeaves);

  /** The value itself when nothing in it is sealed (every job's run opens its parameters: most have nothing sealed). */
  const unsealValue = (value: unknown): unknown =>
    typeof value === 'string' ? (isSealed(value) ? open(value) : value) : mapChildren(value, undefined, unsealValue);

  /** A stored string: sealed under the first key stays; under another, sealed again; a secret as given, sealed. */
  const resealString = (value: string, secretKey: boolean): string => {
    if (!sealing) return value;
    if (isSealed(value)) return SEALED.exec(value)?.[1] === sealing.id ? value : seal(open(value));
    return (secretKey ? value !== '' : redactValue(value) !== value) ? seal(value) : value;
  };
  const resealValue = (value: unknown, key?: string, underSecret = false): unknown => {
    const secret = underSecret || (key !== undefined && isSecretKey(key));
    if (typeof value === 'string') return resealString(value, secret);
    if (typeof value === 'number') return secret && sealing ? seal(value) : value;
    return mapChildren(value, key, (child, childKey) => resealValue(child, childKey, secret));
  };

  return {
    keyId: sealing?.id,
    resealParameters: (parameters) => resealValue(parameters) as Record<string, unknown>,
    resealText: (text) => resealString(text, false),
    sealParameters: (parameters) => (sealing ? (sealValue(parameters) as Record<string, unknown>) : parameters),
    sealText: (text) => (sealing && (isSealed(text) || redactText(text) !== text) ? seal(text) : text),
    unsealParameters: (parameters) => unsealValue(parameters) as Record<string, unknown>,
    unsealText: (text) => (isSealed(text) ? String(open(text)) : text),
    keyedDigest: (text) => (digestKey ? createHmac('sha256', digestKey).update(text).digest('hex') : undefined),
  };
}

/**
 * An object's or a list's children through `each` (an object's under their own keys, a list's
 * items under the list's key: `{"Authorization": ["Bearer …"]}`); the value itself when no child
 * changes, and any other value as it is.
 */
function mapChildren(value: unknown, key: string | undefined, each: (child: unknown, key?: string) => unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const list = Array.isArray(value);
  let changed = false;
  const mapped = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
    const m = each(v, list ? key : k);
    if (m !== v) changed = true;
    return [k, m] as const;
  });
  if (!changed) return value;
  return list ? mapped.map(([, m]) => m) : Object.fromEntries(mapped);
}

type WithSecrets = { parameters: Record<string, unknown>; statusHook?: string };

/**
 * A job's input with its parameters and status hook passed through a sealer's pair (seal, open,
 * seal again): the input itself when neither changes, so a start without secrets keeps what it built.
 */
export function withSecrets<T extends WithSecrets>(
  input: T,
  parameters: (p: Record<string, unknown>) => Record<string, unknown>,
  text: (t: string) => string,
): T {
  const p = parameters(input.parameters);
  const hook = input.statusHook === undefined ? undefined : text(input.statusHook);
  return p === input.parameters && hook === input.statusHook
    ? input
    : { ...input, parameters: p, ...(hook !== undefined ? { statusHook: hook } : {}) };
}

/** Nothing sealed; a sealed value met is refused, naming its key. */
export const NO_SEALING: Sealer = createSealer([]);
