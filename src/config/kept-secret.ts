import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A random secret of `bytes` kept at `file` (mode 600), made the first time: without CORE_SECRET the
 * API's dev secret (curl recipes keep working across restarts), without job.sealing_keys on the
 * embedded server the sealing key (jobs sealed with it open after a restart). `told` says it was made.
 */
export function keptSecret(file: string, bytes: number, told: (secret: string) => void): string {
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    // Emptied (a write on a full disk): a secret derived from '' would seal and authenticate silently.
    if (kept === '')
      throw new Error(
        `${file} is empty: delete it and start again to generate a new one (what was sealed with the old key cannot be opened then)`,
      );
    return kept;
  }
  const secret = randomBytes(bytes).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  told(secret);
  return secret;
}
