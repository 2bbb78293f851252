import { IncomingMessage } from 'node:http';
import { Http2ServerRequest } from 'node:http2';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { ApiError, ErrorCode } from './api-error.js';

type Incoming = IncomingMessage | Http2ServerRequest;

/**
 * Reads a request's body once, refusing more than `maxBytes` with Harbor's 413.
 *
 * Served by Node, the body is read straight off the socket's message and handed to Hono as text.
 * Otherwise @hono/node-server wraps every request in a WHATWG Request and a web stream just to read
 * its body: in a burst of submits that wrapping was about 7% of the API process's CPU. Outside Node
 * (the tests' `app.request`), Hono's own limit reads the Request it was given.
 */
export function requestBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => new ApiError(413, ErrorCode.ReadRequestBody, 'request body too large', `the limit is ${maxBytes} bytes`);
  const portable = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge();
    },
  });
  return async (c, next) => {
    // An empty Content-Type names no media type: 415, as a missing one gets (the JSON validator
    // took it for a non-JSON body and checked an empty object, blaming a field the body had).
    const type = c.req.header('content-type');
    if (type !== undefined && type.trim() === '' && c.req.method !== 'GET' && c.req.method !== 'HEAD') throw new HTTPException(415);
    const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
    // Without a content type, the OpenAPI routes look at the Request itself to answer 415.
    const native = incoming instanceof IncomingMessage || incoming instanceof Http2ServerRequest;
    if (!native || incoming.headers['content-type'] === undefined) return portable(c, next);
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const declared = Number(incoming.headers['content-length']);
    if (declared > maxBytes) throw tooLarge();
    // As a WHATWG Request's `text()` decodes: UTF-8, a leading byte-order mark dropped, bad bytes replaced.
    const text = new TextDecoder().decode(await readAtMost(incoming, maxBytes, tooLarge));
    // A `json()` or `text()` of the request now answers from this, as after Hono's own read; Hono
    // keeps the promise of a read there (its type says the value).
    (c.req.bodyCache as unknown as { text?: Promise<string> }).text = Promise.resolve(text);
    return next();
  };
}

function readAtMost(incoming: Incoming, maxBytes: number, tooLarge: () => ApiError): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (settle: () => void) => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted).off('close', onAborted);
      settle();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // The rest is left unread; Node discards it once the 413 has been sent.
        done(() => reject(tooLarge()));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(() => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    const onError = (error: Error) =>
      done(() => reject(new ApiError(400, ErrorCode.ReadRequestBody, 'failed to read the request body', error.message)));
    const onAborted = () => onError(new Error('the client went away before sending the whole body'));
    // A connection closed before the end may say so with no error at all: 'close' without 'end'.
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted).on('close', onAborted);
  });
}
