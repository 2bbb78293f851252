import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PostResult {
  status: number;
  body: string;
}

/**
 * One POST, as Harbor's notification jobs send it: the body as given, the headers as given, a
 * timeout, and certificate checks off only when asked (`skip_cert_verify`). Aborts with `signal`.
 */
export function postOnce(
  url: string,
  body: string,
  headers: Record<string, string | string[]>,
  options: { timeoutMs: number; insecure?: boolean; signal?: AbortSignal },
): Promise<PostResult> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { 'content-length': Buffer.byteLength(body), ...headers },
        timeout: options.timeoutMs,
        ...(target.protocol === 'https:' ? { rejectUnauthorized: !options.insecure } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 1000) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A URL with its userinfo and query values hidden, for logs. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.username || parsed.password) {
    parsed.username = parsed.username ? '***' : '';
    parsed.password = parsed.password ? '***' : '';
  }
  for (const key of [...parsed.searchParams.keys()]) parsed.searchParams.set(key, '***');
  return parsed.toString();
}
