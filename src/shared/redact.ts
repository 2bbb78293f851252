/**
 * Parameters that look like credentials, hidden wherever a job is shown (stats, lists, hooks, the
 * workflow memo): values under keys that name a secret (in lists under such keys, and in objects
 * passed as JSON text too), the password in a URL's userinfo (all of a userinfo without one: tokens
 * go there, `https://<token>@github.com`), token-like query values and an incoming
 * webhook's path (Slack, Discord, Teams, Mattermost). The job's own code still gets the values as submitted. Pure: imported by
 * workflow code (hooks are built in the workflow).
 */

export const REDACTED = '[redacted]';

/** A value sealed for the worker (src/secrets/sealer.ts): shown as hidden, like any secret. */
export const SEALED_PREFIX = 'sealed:v1:';
/** `sealed:v1:<key id>:<base64url of IV, ciphertext, tag>`, the key id and the bytes captured. */
export const SEALED = /^sealed:v1:([0-9a-f]{8}):([A-Za-z0-9_-]{38,})$/;

export function isSealed(text: string): boolean {
  return text.startsWith(SEALED_PREFIX) && SEALED.test(text);
}

/**
 * Keys whose values are secrets: password or passwd anywhere in the key (`password_b64`,
 * `passwordFile`), a key ending in pass, passphrase, passcode, secret, token, api_key, auth_key,
 * private_key, credential(s), authorization, auth_header, cookie, bearer, signature, jwt, session ids.
 */
const SECRET_KEY =
  /password|passwd|pass$|passphrase|passcode|secret|token|api[-_]?key|auth[-_]?key|private[-_]?key|credential|authorization|^auth$|auth[-_]?header|cookie|bearer|signature|jwt|session[-_]?(id|key|token)?$/i;
// The global patterns below are made per call: a global RegExp keeps state (`lastIndex`), and this
// module is shared by every workflow in a worker's V8 context, where the SDK freezes it.
/**
 * Query parameters whose values are secrets, in any URL inside a string: named `key`, `auth`,
 * `sig`, or ending in token, secret, key, password, signature (`client_secret`, `private_token`,
 * `X-Amz-Signature`, …).
 */
// Every repeat below is bounded where a match may start over at each character: a pattern that
// scans to the end of a long run from every start (`a.a.a.…`, `????…`) takes quadratic time, and
// these run on the API's event loop and in workflow code on every parameter a job is shown with.
const SECRET_QUERY = String.raw`([?&](?:auth|jwt|(?:[^=&#\s"'?]{0,64}[_-])?(?:token|secret|api[-_]?key|key|password|passwd|signature|sig))=)[^&#\s"'\\]*`;
/** A URL's scheme (RFC 3986), as long as any in use. */
const SCHEME = String.raw`\b[a-z][a-z0-9+.-]{0,31}:\/\/`;
/** `scheme://user:password@host`: the password goes (up to the authority's last `@`), the user stays. */
// The userinfo's parts stop at a `/`, so they may run long (a 2 KB cloud token) and stay linear.
const USERINFO = String.raw`(${SCHEME}[^/\s:@"']*):[^/\s"']*@`;
/** The same, the password captured (secretValues). */
const USERINFO_PASSWORD = String.raw`${SCHEME}[^/\s:@"']*:([^/\s"']+)@`;
/** `scheme://token@host`: a userinfo without a password is often a token (Git hosts take one there), so it goes whole. */
const BARE_USERINFO = String.raw`(${SCHEME})([^/?#\s:@"']+)@`;
/**
 * An incoming webhook's URL is its credential: Slack's path after `/services/`, and on any host the
 * path after `/api/webhooks/` or `/api/v<n>/webhooks/` (Discord), `/webhookb2/` (Microsoft Teams)
 * or `/hooks/` when a token follows, alone or after an id (Mattermost, Rocket.Chat): 20 or more
 * letters, digits, `-` and `_`, with a digit and a letter among them, so a name such as
 * `harbor-notification-receiver` stays.
 */
const TOKEN_AHEAD = String.raw`(?=(?:[\w-]{1,64}\/)?(?=[\w-]{0,256}\d)(?=[\w-]{0,256}[a-z])[\w-]{20})`;
const WEBHOOK_PATH = String.raw`(\bhttps?:\/\/(?:hooks\.slack\.com\/services\/|[^\s/"'?#]{1,256}\/(?:api\/(?:v\d{1,3}\/)?webhooks\/|webhookb2\/|hooks\/${TOKEN_AHEAD})))[^\s"'?#\\]+`;

/** A string with URL passwords, token-like query values and Slack webhook paths hidden. */
export function redactText(text: string): string {
  if (isSealed(text)) return REDACTED;
  // Every pattern needs a `://` or an `=`; most texts (log lines, check-ins) have neither, and then
  // three global RegExps per line are wasted work on the path every job's log takes.
  if (!text.includes('://') && !text.includes('=')) return text;
  return text
    .replace(new RegExp(USERINFO, 'gi'), `$1:${REDACTED}@`)
    .replace(new RegExp(BARE_USERINFO, 'gi'), `$1${REDACTED}@`)
    .replace(new RegExp(SECRET_QUERY, 'gi'), `$1${REDACTED}`)
    .replace(new RegExp(WEBHOOK_PATH, 'gi'), `$1${REDACTED}`);
}

/** A deep copy with secret-named keys' values and secrets inside strings hidden. */
export function redactValue(value: unknown, key?: string): unknown {
  if (key !== undefined && SECRET_KEY.test(key)) return hideLeaves(value);
  if (typeof value === 'string') {
    if (isSealed(value)) return REDACTED;
    const json = jsonInside(value);
    if (json !== undefined) {
      const redacted = redactValue(json);
      // Left as written when there was nothing to hide.
      if (JSON.stringify(redacted) !== JSON.stringify(json)) return JSON.stringify(redacted);
    }
    return redactText(value);
  }
  // A list's items are the key's values (HTTP headers: `{"Authorization": ["Bearer …"]}`).
  if (Array.isArray(value)) return value.map((item) => redactValue(item, key));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactValue(v, k)]));
  }
  return value;
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * Under a secret-named key every value is hidden, however deep (`{"token": {"value": "…"}}`); the
 * shape stays, and so do empty strings, booleans and nulls, which tell nothing.
 */
function hideLeaves(value: unknown): unknown {
  if ((typeof value === 'string' && value !== '') || typeof value === 'number') return REDACTED;
  if (Array.isArray(value)) return value.map(hideLeaves);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, hideLeaves(v)]));
  }
  return value;
}

export function redactParameters(parameters: Record<string, unknown>): Record<string, unknown> {
  return redactValue(parameters) as Record<string, unknown>;
}

/** The secret values a job was submitted with (under secret-named keys, URL passwords, token-like query values), to mask in its log. */
export function secretValues(parameters: Record<string, unknown>): string[] {
  const found = new Set<string>();
  const leaves = (value: unknown) => {
    if (typeof value === 'string' || typeof value === 'number') found.add(String(value));
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(leaves);
  };
  const walk = (value: unknown, key?: string) => {
    if (key !== undefined && SECRET_KEY.test(key)) leaves(value);
    if (typeof value === 'string') {
      const json = jsonInside(value);
      if (json !== undefined) walk(json);
      for (const match of value.matchAll(new RegExp(USERINFO_PASSWORD, 'gi'))) found.add(decodeURIComponentSafe(match[1]!));
      // A short bare user (`git`, `admin`) is a name, and masking it would blank that word all over the log; tokens are long.
      for (const match of value.matchAll(new RegExp(BARE_USERINFO, 'gi')))
        if (match[2]!.length >= 16) found.add(decodeURIComponentSafe(match[2]!));
      for (const match of value.matchAll(new RegExp(SECRET_QUERY, 'gi'))) found.add(match[0]!.slice(match[1]!.length));
      for (const match of value.matchAll(new RegExp(WEBHOOK_PATH, 'gi'))) found.add(match[0]!.slice(match[1]!.length));
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, key);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, k);
    }
  };
  walk(parameters);
  // A job that shows its parameters as JSON (a check-in, a log line) shows a secret escaped, once
  // or, inside a parameter that is JSON text itself, twice: those forms are masked too.
  for (const secret of [...found]) {
    const once = JSON.stringify(secret).slice(1, -1);
    found.add(once);
    found.add(JSON.stringify(once).slice(1, -1));
  }
  // Short values would mask ordinary words.
  return [...found].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}

/** Every occurrence of a known secret replaced, plus what `redactText` hides. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) masked = masked.split(secret).join(REDACTED);
  return redactText(masked);
}

/**
 * The object or list a string holds as JSON, if it does: Harbor's core passes some parameters as
 * JSON text (WEBHOOK's `header`, a map of header names to value lists, Authorization among them).
 */
function jsonInside(text: string): object | undefined {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
