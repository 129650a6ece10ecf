/**
 * A small Bearer token server for the distribution token flow (docker-registry `auth.token`):
 * GET /token?service=…&scope=repository:NAME:ACTIONS with optional Basic credentials returns a JWT
 * (RS256, the signing certificate in the `x5c` header, trusted by the registry's rootcertbundle).
 *
 * Policy: known users get what they ask for; anonymous callers get `pull` on repositories listed
 * in `anonymousPull` (or all when `true`); wrong credentials get 401.
 */
import { spawnSync } from 'node:child_process';
import { createSign, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TokenRequestLog {
  user: string | null;
  scopes: string[];
  service: string | null;
  granted: boolean;
  authorization: boolean;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  requests: TokenRequestLog[];
  stop(): Promise<void>;
}

export interface TokenServerOptions {
  users?: Record<string, string>;
  anonymousPull?: boolean | string[];
  /** Host name used in the realm URL (default 127.0.0.1). */
  host?: string;
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

function basicUser(req: IncomingMessage): { user: string; password: string } | null {
  const h = req.headers.authorization;
  if (!h || !h.startsWith('Basic ')) return null;
  const raw = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const i = raw.indexOf(':');
  return i < 0 ? null : { user: raw.slice(0, i), password: raw.slice(i + 1) };
}

export async function startTokenServer(opts: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'imagekit-token-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-subj', '/CN=imagekit-test-token', '-days', '3650'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const key = readFileSync(keyPath, 'utf8');
  const certDer = Buffer.from(readFileSync(certPath, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const service = 'imagekit-test-registry';
  const issuer = 'imagekit-test-issuer';
  const requests: TokenRequestLog[] = [];
  const users = opts.users ?? {};

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const scopes = u.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const creds = basicUser(req);
    const log: TokenRequestLog = { user: creds?.user ?? null, scopes, service: u.searchParams.get('service'), granted: false, authorization: Boolean(req.headers.authorization) };
    requests.push(log);
    if (creds && users[creds.user] !== creds.password) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    const access = scopes.flatMap((s) => {
      const m = /^repository:([^:]+):(.+)$/.exec(s);
      if (!m) return [];
      const [, name, actions] = m;
      let granted: string[];
      if (creds) granted = actions!.split(',');
      else if (opts.anonymousPull === true || (Array.isArray(opts.anonymousPull) && opts.anonymousPull.includes(name!))) granted = actions!.split(',').filter((a) => a === 'pull');
      else granted = [];
      return granted.length ? [{ type: 'repository', name, actions: granted }] : [];
    });
    log.granted = access.length > 0;
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: creds?.user ?? '', aud: service, exp: now + 3600, nbf: now - 60, iat: now, jti: randomUUID(), access };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(signingInput).sign(key);
    const token = `${signingInput}.${b64url(sig)}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 3600 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    realm: `http://${opts.host ?? '127.0.0.1'}:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop: async () => {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
