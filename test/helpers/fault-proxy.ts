/**
 * A fault-injecting HTTP proxy in front of a registry: cuts a response after N body bytes, answers
 * 429/503 instead of forwarding, flips a byte (a wrong digest), ignores `Range`, redirects, or adds
 * upstream credentials (a "CDN" that must not receive the client's). Every request is logged.
 *
 *   const proxy = await startFaultProxy(registry.url);
 *   proxy.faults.push({ match: /\/blobs\//, times: 1, fault: { cutAfter: 1000 } });
 *   // pull from proxy.host …
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type Fault =
  | { status: number; headers?: Record<string, string>; body?: string }
  | { cutAfter: number }
  | { stallAfter: number }
  | { corrupt: true }
  | { ignoreRange: true }
  | { redirect: (path: string) => string };

export interface FaultRule {
  match: RegExp | ((method: string, path: string) => boolean);
  /** Only for this method (default any). */
  method?: string;
  /** How many times the rule fires (default unlimited). */
  times?: number;
  fault: Fault;
}

export interface ProxyLogEntry {
  method: string;
  path: string;
  range?: string;
  authorization: boolean;
  fault?: string;
  status?: number;
}

export interface FaultProxy {
  host: string;
  url: string;
  faults: FaultRule[];
  log: ProxyLogEntry[];
  stop(): Promise<void>;
}

export interface FaultProxyOptions {
  /** Host name to advertise (default 127.0.0.1); `localhost` gives a different origin. */
  hostName?: string;
  /** Authorization header to send upstream instead of the client's (a CDN with its own access). */
  upstreamAuthorization?: string;
}

export async function startFaultProxy(upstream: string, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  const up = new URL(upstream);
  const faults: FaultRule[] = [];
  const log: ProxyLogEntry[] = [];
  const sockets = new Set<Socket>();

  const pick = (method: string, path: string): Fault | undefined => {
    for (const r of faults) {
      if (r.method && r.method !== method) continue;
      const hit = typeof r.match === 'function' ? r.match(method, path) : r.match.test(path);
      if (!hit) continue;
      if (r.times !== undefined) {
        if (r.times <= 0) continue;
        r.times--;
      }
      return r.fault;
    }
    return undefined;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const entry: ProxyLogEntry = { method, path, authorization: Boolean(req.headers.authorization) };
    if (req.headers.range) entry.range = String(req.headers.range);
    log.push(entry);
    const fault = pick(method, path);
    if (fault) entry.fault = Object.keys(fault)[0];
    if (fault && 'status' in fault) {
      entry.status = fault.status;
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers }).end(fault.body ?? JSON.stringify({ errors: [{ code: 'INJECTED', message: `injected ${fault.status}` }] }));
      return;
    }
    if (fault && 'redirect' in fault) {
      entry.status = 307;
      req.resume();
      res.writeHead(307, { location: fault.redirect(path) }).end();
      return;
    }
    const headers = { ...req.headers, host: up.host };
    if (opts.upstreamAuthorization) headers.authorization = opts.upstreamAuthorization;
    if (fault && 'ignoreRange' in fault) delete headers.range;
    const upReq = httpRequest({ hostname: up.hostname, port: up.port, method, path, headers }, (upRes) => {
      entry.status = upRes.statusCode;
      const outHeaders = { ...upRes.headers };
      // Rewrite upload locations so clients keep talking to the proxy.
      if (typeof outHeaders.location === 'string') outHeaders.location = outHeaders.location.replace(up.origin, `http://${req.headers.host}`);
      res.writeHead(upRes.statusCode ?? 502, outHeaders);
      if (fault && 'cutAfter' in fault) {
        let sent = 0;
        upRes.on('data', (c: Buffer) => {
          if (sent >= fault.cutAfter) return;
          const part = c.subarray(0, fault.cutAfter - sent);
          sent += part.length;
          if (sent >= fault.cutAfter) {
            upRes.destroy();
            // Destroy once the bytes are flushed, so the client really got `cutAfter` bytes.
            res.write(part, () => res.socket?.destroy());
          } else res.write(part);
        });
        upRes.on('end', () => res.end());
        return;
      }
      if (fault && 'stallAfter' in fault) {
        // Send N bytes, then nothing, with the connection left open (a hung server).
        let sent = 0;
        upRes.on('data', (c: Buffer) => {
          if (sent >= fault.stallAfter) return;
          const part = c.subarray(0, fault.stallAfter - sent);
          sent += part.length;
          res.write(part);
        });
        res.on('close', () => upRes.destroy());
        return;
      }
      if (fault && 'corrupt' in fault) {
        let flipped = false;
        upRes.on('data', (c: Buffer) => {
          if (!flipped && c.length > 0) {
            c = Buffer.from(c);
            c[Math.floor(c.length / 2)] ^= 0x5a;
            flipped = true;
          }
          res.write(c);
        });
        upRes.on('end', () => res.end());
        return;
      }
      upRes.pipe(res);
    });
    upReq.on('error', () => res.socket?.destroy());
    req.pipe(upReq);
  };

  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const host = `${opts.hostName ?? '127.0.0.1'}:${port}`;
  return {
    host,
    url: `http://${host}`,
    faults,
    log,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
