import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { attemptDeadline } from '../../process/attempt-deadline.js';

export interface PostResult {
  status: number;
  body: string;
}

/** Go's http.Client gives up after ten redirects. */
const MAX_REDIRECTS = 10;
/** A refusal's body is kept for the error message only. */
const MAX_ERROR_BODY = 1000;

/**
 * One POST, as Harbor's notification jobs send it (Go's http.Client with a `Timeout`): the body and
 * headers as given, certificate checks off only when asked (`skip_cert_verify`), 307/308 redirects
 * followed with the same body (Authorization dropped when the host changes, as Go does). One
 * deadline covers the whole exchange; a 2xx is done at its status line (Harbor reads no body of
 * it), so a receiver that answers at once and trickles its body is neither waited on nor re-sent.
 */
export async function postOnce(
  url: string,
  body: string,
  headers: Record<string, string | string[]>,
  options: { timeoutMs: number; insecure?: boolean; signal?: AbortSignal },
): Promise<PostResult> {
  const deadline = attemptDeadline(options.timeoutMs, options.signal);
  let target = new URL(url);
  let sent = headers;
  try {
    for (let hop = 0; ; hop++) {
      const answer = await exchange(target, body, sent, options.insecure ?? false, deadline.signal).catch((err: unknown) => {
        if (deadline.timedOut()) throw new Error(`no answer within ${options.timeoutMs / 1000} s`);
        throw err;
      });
      if ((answer.status !== 307 && answer.status !== 308) || answer.location === undefined) return answer;
      if (hop === MAX_REDIRECTS) throw new Error(`stopped after ${MAX_REDIRECTS} redirects`);
      const next = new URL(answer.location, target);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') return answer;
      if (next.host !== target.host) sent = withoutAuthorization(sent);
      target = next;
    }
  } finally {
    deadline.clear();
  }
}

function withoutAuthorization(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}

function exchange(
  target: URL,
  body: string,
  headers: Record<string, string | string[]>,
  insecure: boolean,
  signal: AbortSignal,
): Promise<PostResult & { location?: string }> {
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { 'content-length': Buffer.byteLength(body), ...asWireText(headers) },
        ...(target.protocol === 'https:' ? { rejectUnauthorized: !insecure } : {}),
        signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (status >= 200 && status <= 299) {
          // Done: the rest of the body is not read (Go's client closes it too).
          res.on('error', () => undefined);
          res.destroy();
          resolve({ status, body: '' });
          return;
        }
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (kept < MAX_ERROR_BODY) chunks.push(c);
          kept += c.length;
        });
        res.on('end', () =>
          resolve({ status, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY), ...(location ? { location } : {}) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A Buffer, so the head goes out on its own as Latin-1 (asWireText): a string body would be
    // joined to it and the whole written as UTF-8.
    req.end(Buffer.from(body, 'utf8'));
  });
}

/**
 * Header values as Go writes them: their UTF-8 bytes. Node writes a header's characters as Latin-1
 * bytes (and refuses any above U+00FF), so each value goes as the Latin-1 reading of its UTF-8.
 */
function asWireText(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  const wire = (value: string) => Buffer.from(value, 'utf8').toString('latin1');
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.map(wire) : wire(value)]));
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
