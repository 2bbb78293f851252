import type { LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

export interface HookAnswer {
  status: number;
  /** The first bytes of a non-2xx answer's body, as text; the rest is never read. */
  bodyStart: string;
}

export interface HookPost {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  /** Connect only to these (the addresses the allow-list checked), never to a fresh lookup of the name. */
  addresses?: readonly LookupAddress[];
  /** How much of a failed answer's body to keep. */
  keepBytes: number;
}

/**
 * POST a hook event. Not `fetch`: a host name the allow-list admitted by what it resolved to must
 * be connected to at those addresses, and `fetch` resolves the name again, which a DNS answer
 * that changes in between (rebinding) would steer elsewhere. Redirects are not followed.
 */
export function postHook(url: string, post: HookPost): Promise<HookAnswer> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) },
        signal: post.signal,
        ...(post.addresses ? { lookup: pinnedLookup(post.addresses) } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          // Delivered; the body is not read (a receiver may send any amount of it).
          res.destroy();
          resolve({ status, bodyStart: '' });
          return;
        }
        const chunks: Buffer[] = [];
        let kept = 0;
        const done = () => {
          res.destroy();
          resolve({ status, bodyStart: Buffer.concat(chunks).toString('utf8') });
        };
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          kept += chunk.length;
          if (kept >= post.keepBytes) done();
        });
        res.on('end', done);
        // A body cut off part-way (or the attempt's deadline): what came is enough for the error.
        res.on('error', done);
        res.on('close', done);
      },
    );
    req.on('error', reject);
    req.end(post.body);
  });
}

function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const usable = options.family ? addresses.filter((a) => a.family === options.family) : addresses;
    if (usable.length === 0) {
      callback(Object.assign(new Error(`no IPv${options.family} address among those checked`), { code: 'ENOTFOUND' }), '', 0);
    } else if (options.all) {
      (callback as unknown as (err: null, all: LookupAddress[]) => void)(null, [...usable]);
    } else {
      callback(null, usable[0]!.address, usable[0]!.family);
    }
  };
}
