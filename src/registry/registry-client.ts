import { createHash } from 'node:crypto';
import { abortableSleep } from '../process/abortable-sleep.js';
import { MANIFEST_TYPES, type Manifest } from './manifest.js';
import { expectOk, failWith, nextLink, pageSizeRefused, retryAfterMs } from './registry-answers.js';
import { RegistryError } from './registry-error.js';

/** What a job reads of a registry: credentials come from the worker's configuration, never from the job. */
export interface RegistryEndpoint {
  url: string;
  username?: string;
  password?: string;
}

/**
 * How the client answers a registry that pushes back (429, 503, a gateway's 502/504): each request
 * is retried up to `retries` times, waiting as `Retry-After` says (at most `maxRetryAfterMs`; a
 * registry asking for longer fails the request at once, naming the wait) or, without it, doubling
 * from `backoffMs`. While one request waits out a `Retry-After`, every other request of the client
 * waits too: a throttled registry gets a pause, not the rest of the job's requests.
 */
export interface RetryPolicy {
  retries: number;
  maxRetryAfterMs: number;
  backoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 4, maxRetryAfterMs: 60_000, backoffMs: 1000 };

/** Answers that say the registry did not do the request and may later: a delete is retried on these only. */
const REFUSED = new Set([429, 503]);
/** A gateway's answers too: a read is safe to repeat whatever happened behind it. */
const READ_RETRYABLE = new Set([429, 502, 503, 504]);

const ACCEPT = Object.values(MANIFEST_TYPES).join(', ');

/**
 * The OCI Distribution API, as far as retention needs it: catalog and tags (paginated by `Link`),
 * manifests and config blobs, deletes by digest; basic auth, and the bearer-token dance of the
 * distribution spec (a 401 names the realm, the token is fetched with the basic credentials).
 */
export class RegistryClient {
  private readonly base: string;
  private readonly tokens = new Map<string, string>();

  /** Until when every request waits: the latest `Retry-After` the registry sent. */
  private coolDownUntil = 0;

  constructor(
    private readonly endpoint: RegistryEndpoint,
    private readonly options: {
      timeoutMs: number;
      signal?: AbortSignal;
      pageSize?: number;
      retry?: RetryPolicy;
      /** Told of each retry, e.g. the job's log. */
      onRetry?: (message: string) => void;
      /**
       * How long a delete already sent when `signal` aborts gets to answer (the registry may have
       * carried it out); 0 aborts it at once. No request starts once `signal` has aborted.
       */
      deleteAnswerMs?: number;
    },
  ) {
    this.base = endpoint.url.replace(/\/+$/, '');
  }

  private get pageSize(): number {
    return this.options.pageSize ?? 1000;
  }

  /** Every repository, following the catalog's pages. */
  async catalog(): Promise<string[]> {
    return this.paged(`/v2/_catalog?n=${this.pageSize}`, 'repositories', 'registry:catalog:*', 'catalog');
  }

  async tags(repository: string): Promise<string[]> {
    return this.paged(`/v2/${repository}/tags/list?n=${this.pageSize}`, 'tags', pullScope(repository), `tags of ${repository}`);
  }

  async manifest(repository: string, reference: string): Promise<Manifest> {
    const response = await this.send('GET', `/v2/${repository}/manifests/${reference}`, pullScope(repository), { accept: ACCEPT });
    await expectOk(response, `manifest ${repository}:${reference}`);
    const body = Buffer.from(await response.arrayBuffer());
    const parsed = JSON.parse(body.toString('utf8')) as Omit<Manifest, 'digest'>;
    const digest = response.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const mediaType = parsed.mediaType ?? response.headers.get('content-type')?.split(';')[0] ?? MANIFEST_TYPES.ociManifest;
    return { ...parsed, digest, mediaType };
  }

  /** The digest a tag points at now: a HEAD, or the manifest itself from a registry that does not say it there. */
  async manifestDigest(repository: string, reference: string): Promise<string> {
    const response = await this.send('HEAD', `/v2/${repository}/manifests/${reference}`, pullScope(repository), { accept: ACCEPT });
    await response.body?.cancel();
    if (response.status === 404) throw new RegistryError(404, `manifest ${repository}:${reference}: HTTP 404 (not found)`);
    const digest = response.ok ? response.headers.get('docker-content-digest') : null;
    return digest ?? (await this.manifest(repository, reference)).digest;
  }

  async blobJson(repository: string, digest: string): Promise<Record<string, unknown>> {
    const response = await this.send('GET', `/v2/${repository}/blobs/${digest}`, pullScope(repository));
    await expectOk(response, `blob ${repository}@${digest}`);
    return (await response.json()) as Record<string, unknown>;
  }

  /** Deletes a manifest (and so every tag on it). An already deleted digest is `gone`, not an error. */
  async deleteManifest(repository: string, digest: string): Promise<'deleted' | 'gone'> {
    const response = await this.send('DELETE', `/v2/${repository}/manifests/${digest}`, `repository:${repository}:delete`);
    await response.body?.cancel();
    if (response.status === 202 || response.status === 200) return 'deleted';
    if (response.status === 404) return 'gone';
    if (response.status === 405) {
      throw new RegistryError(405, `the registry at ${this.base} does not allow deletes (storage.delete.enabled is off)`);
    }
    return failWith(response, `delete ${repository}@${digest}`);
  }

  private async paged(first: string, key: 'repositories' | 'tags', scope: string, what: string): Promise<string[]> {
    const items: string[] = [];
    const seen = new Set<string>();
    let next: string | undefined = first;
    while (next) {
      // A registry (or a proxy) whose Link leads back to a page already read would loop forever.
      if (seen.has(next)) throw new RegistryError(0, `${what}: the registry's next page ${next} was read already`);
      seen.add(next);
      let response = await this.send('GET', next, scope);
      if (response.status === 400 && next === first && /[?&]n=/.test(first) && (await pageSizeRefused(response))) {
        // A page size over the registry's own cap (`catalog.maxentries`) is refused: its own size, then.
        await response.body?.cancel();
        next = first.replace(/([?&])n=\d+&?/, '$1').replace(/[?&]$/, '');
        seen.add(next);
        response = await this.send('GET', next, scope);
      }
      await expectOk(response, what);
      const body = (await response.json()) as Record<string, string[] | null>;
      // One by one: a spread passes each item as an argument, and a page of ~125,000 overflows the stack.
      for (const item of body[key] ?? []) items.push(item);
      next = nextLink(response.headers.get('link'));
    }
    return items;
  }

  /** The job's stop, `deleteAnswerMs` late: one per client (a listener per request would pile up). */
  private get deleteStop(): AbortSignal | undefined {
    const { signal, deleteAnswerMs = 0 } = this.options;
    if (!signal || deleteAnswerMs <= 0) return signal;
    return (this.lateStop ??= lateBy(signal, deleteAnswerMs));
  }

  private lateStop: AbortSignal | undefined;

  /** A request, repeated while the registry pushes back (see RetryPolicy). */
  private async send(method: string, path: string, scope: string, options: { accept?: string } = {}): Promise<Response> {
    const policy = this.options.retry ?? DEFAULT_RETRY_POLICY;
    const read = method === 'GET' || method === 'HEAD';
    const retryable = read ? READ_RETRYABLE : REFUSED;
    const what = `${method} ${path.split('?')[0]}`;
    for (let attempt = 0; ; attempt++) {
      await this.pause(this.coolDownUntil - Date.now());
      let response: Response;
      try {
        response = await this.sendOnce(method, path, scope, options);
      } catch (err) {
        // A read that got no connection or lost it is repeated; a delete is not, as the registry may
        // have done it and its repeat would read as someone else's delete. A request that timed out
        // is not either: `request_timeout_seconds` bounds a request, retries must not multiply it.
        const unanswered = err instanceof RegistryError && err.unanswered;
        if (!read || !unanswered || attempt >= policy.retries || this.options.signal?.aborted) throw err;
        const waitMs = policy.backoffMs * 2 ** attempt;
        this.options.onRetry?.(`${what}: ${(err as Error).message}; retry ${attempt + 1} of ${policy.retries} in ${waitMs} ms`);
        await this.pause(waitMs);
        continue;
      }
      if (!retryable.has(response.status) || attempt >= policy.retries) return response;
      const asked = retryAfterMs(response.headers.get('retry-after'));
      if (asked !== undefined && asked > policy.maxRetryAfterMs) {
        await response.body?.cancel();
        throw new RegistryError(
          response.status,
          `${what}: HTTP ${response.status}, the registry asks to retry after ${Math.ceil(asked / 1000)} s, ` +
            `longer than retention.max_retry_after_seconds (${policy.maxRetryAfterMs / 1000})`,
        );
      }
      await response.body?.cancel();
      const waitMs = asked ?? policy.backoffMs * 2 ** attempt;
      if (asked !== undefined) this.coolDownUntil = Math.max(this.coolDownUntil, Date.now() + asked);
      this.options.onRetry?.(
        `${what}: HTTP ${response.status}${asked !== undefined ? ` (Retry-After ${Math.ceil(asked / 1000)} s)` : ''}; ` +
          `retry ${attempt + 1} of ${policy.retries} in ${waitMs} ms`,
      );
      await this.pause(waitMs);
    }
  }

  /** Waits, unless the job is being stopped: then the next request fails at once on the aborted signal. */
  private pause(ms: number): Promise<void> {
    return abortableSleep(ms, this.options.signal);
  }

  /** One request, authenticated as the registry asks; a 401 is answered once per scope. */
  private async sendOnce(method: string, path: string, scope: string, { accept }: { accept?: string } = {}): Promise<Response> {
    const attempt = (authorization?: string) => {
      const headers: Record<string, string> = {};
      if (accept) headers.accept = accept;
      if (authorization) headers.authorization = authorization;
      // None starts once the job is stopping (a retry, the repeat after a 401, the next delete).
      if (this.options.signal?.aborted) {
        return Promise.reject(new RegistryError(0, `${method} ${this.base}${path.split('?')[0]}: not sent, the job is stopping`));
      }
      // A delete the stop meets in flight may be carried out already: it gets a moment to answer, so
      // the job reports what the registry did rather than an error for a delete that went.
      const stop = method === 'DELETE' ? this.deleteStop : this.options.signal;
      const signals = [AbortSignal.timeout(this.options.timeoutMs), ...(stop ? [stop] : [])];
      return fetch(`${this.base}${path}`, { method, headers, signal: AbortSignal.any(signals), redirect: 'follow' }).catch(
        (err: unknown) => {
          const name = err instanceof Error ? err.name : '';
          const cause = name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (err as Error).message;
          const unanswered = name !== 'TimeoutError' && name !== 'AbortError';
          throw new RegistryError(0, `${method} ${this.base}${path.split('?')[0]}: ${cause}`, unanswered);
        },
      );
    };
    const cached = this.tokens.get(scope);
    const first = await attempt(cached ?? this.basic());
    if (first.status !== 401) return first;
    // Only the registry's own challenge is answered: one from a host a redirect led to would get
    // the registry's credentials sent to the realm of its choosing.
    if (first.url && new URL(first.url).origin !== new URL(this.base).origin) {
      await first.body?.cancel();
      throw new RegistryError(
        401,
        `${method} ${this.base}${path.split('?')[0]}: redirected to ${new URL(first.url).origin}, which asks for credentials; they are not sent there`,
      );
    }
    const challenge = first.headers.get('www-authenticate') ?? '';
    await first.body?.cancel();
    const authorization = /^bearer /i.test(challenge) ? await this.token(challenge, scope) : this.basic();
    if (!authorization) throw new RegistryError(401, `the registry at ${this.base} wants credentials; configure them under registries`);
    if (authorization.startsWith('Bearer ')) this.tokens.set(scope, authorization);
    return attempt(authorization);
  }

  private basic(): string | undefined {
    const { username, password } = this.endpoint;
    return username ? `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` : undefined;
  }

  /** The distribution spec's token dance: GET realm?service=…&scope=… with basic credentials. */
  private async token(challenge: string, scope: string): Promise<string> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    if (!params.realm) throw new RegistryError(401, `the registry at ${this.base} sent a bearer challenge without a realm`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? scope);
    const headers: Record<string, string> = {};
    const basic = this.basic();
    if (basic) headers.authorization = basic;
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(this.options.timeoutMs) }).catch((err: unknown) => {
      throw new RegistryError(0, `token service ${url.origin}${url.pathname}: ${(err as Error).message}`);
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new RegistryError(response.status, `the token service of ${this.base} refused the credentials (HTTP ${response.status})`);
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(401, `the token service of ${this.base} answered without a token`);
    return `Bearer ${token}`;
  }
}

function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** Aborts `afterMs` after `signal` does. */
function lateBy(signal: AbortSignal, afterMs: number): AbortSignal {
  const late = new AbortController();
  const abort = () => setTimeout(() => late.abort(signal.reason), afterMs).unref();
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  return late.signal;
}
