import { createHash } from 'node:crypto';
import { NO_SEALING, type Sealer } from '../secrets/sealer.js';
import { canonicalJson } from '../shared/canonical-json.js';
import { redactParameters } from '../shared/redact.js';

/**
 * A unique job's id follows from its name and parameters, so Temporal itself is the lock. With
 * secrets among the parameters the digest is keyed (the sealing key): the id is shown wherever
 * the job is, next to its redacted parameters, and a plain hash would let anyone test guesses of
 * a short secret offline. Without sealing the secrets are in the job's history as given anyway.
 */
export function uniqueJobId(name: string, parameters: Record<string, unknown>, sealer: Sealer = NO_SEALING): string {
  const text = `${name}\n${canonicalJson(parameters)}`;
  // Whatever redaction hides counts, however short: the shortest secrets are the easiest to guess.
  const keyed = canonicalJson(redactParameters(parameters)) !== canonicalJson(parameters) ? sealer.keyedDigest(text) : undefined;
  return (keyed ?? createHash('sha256').update(text).digest('hex')).slice(0, 24);
}
