/**
 * What a handler gets (request, response, route parameters) and the small set of ways it answers:
 * upstream's plain-text errors (image-factory.md §2.1), Go-encoded JSON, and bytes with headers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { goJson } from './go-json.js';
import type { HttpError } from './http-error.js';
import type { Params } from './router.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Params;
  /** The query string parameters (first value of each). */
  query: URLSearchParams;
  requestId: string;
}

export type Handler = (ctx: RequestContext) => Promise<void>;

/** Go `http.Error`: `text/plain; charset=utf-8`, `X-Content-Type-Options: nosniff`, body `<message>\n`. */
export function writeError(res: ServerResponse, err: HttpError): void {
  const body = Buffer.from(`${err.body}\n`, 'utf8');
  res.statusCode = err.status;
  res.removeHeader('content-disposition');
  res.removeHeader('content-length');
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', body.length);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** A whole body with its length. */
export function writeBody(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', bytes.length);
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

/**
 * A JSON value as Go's `json.Encoder` writes it. `contentType` null: upstream sets none and Go
 * sniffs the body, which gives `text/plain; charset=utf-8` for JSON (§2.1).
 */
export function writeJson(res: ServerResponse, status: number, value: unknown, contentType: string | null = null): void {
  writeBody(res, status, contentType ?? 'text/plain; charset=utf-8', goJson(value));
}
