import { RegistryError } from './registry-error.js';

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function nextLink(link: string | null): string | undefined {
  const match = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  if (!match) return undefined;
  const target = new URL(match[1]!, 'http://registry.invalid');
  return `${target.pathname}${target.search}`;
}

/** Whether a 400 is the distribution API's PAGINATION_NUMBER_INVALID (read from a copy: the answer stays readable). */
export async function pageSizeRefused(response: Response): Promise<boolean> {
  const text = await response
    .clone()
    .text()
    .catch(() => '');
  return text.includes('PAGINATION_NUMBER_INVALID');
}

export async function expectOk(response: Response, what: string): Promise<void> {
  if (response.ok) return;
  await failWith(response, what);
}

export async function failWith(response: Response, what: string): Promise<never> {
  const text = (await response.text().catch(() => '')).slice(0, 300).trim();
  const why: Record<number, string> = {
    401: 'authentication failed',
    403: 'the credentials lack permission',
    404: 'not found',
  };
  throw new RegistryError(
    response.status,
    `${what}: HTTP ${response.status} (${why[response.status] ?? 'registry error'})${text ? `: ${text}` : ''}`,
  );
}
