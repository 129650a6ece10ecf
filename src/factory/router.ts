/**
 * The route table and its matching rules, as upstream's router (julienschmidt/httprouter defaults,
 * image-factory.md §2.1): `:name` matches one path segment, `*name` the rest (with its leading
 * `/`); an unknown path is 404 `404 page not found`; a known path with another method is 405 with
 * `Allow`; a path that matches only with/without a trailing slash is redirected (301 for GET, 308
 * otherwise).
 */

export type Params = Readonly<Record<string, string>>;

interface Segment {
  kind: 'literal' | 'param' | 'rest';
  text: string;
}

export interface Route<H> {
  method: string;
  pattern: string;
  handler: H;
  segments: Segment[];
}

export type RouteMatch<H> =
  | { type: 'found'; handler: H; params: Params; pattern: string }
  | { type: 'method-not-allowed'; allow: string[] }
  | { type: 'redirect'; location: string; status: 301 | 308 }
  | { type: 'not-found' };

function compile(pattern: string): Segment[] {
  return pattern
    .split('/')
    .slice(1)
    .map((s) => (s.startsWith(':') ? { kind: 'param', text: s.slice(1) } : s.startsWith('*') ? { kind: 'rest', text: s.slice(1) } : { kind: 'literal', text: s }));
}

function matchSegments(segments: Segment[], path: string): Record<string, string> | null {
  const parts = path.split('/').slice(1);
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.kind === 'rest') {
      params[seg.text] = '/' + parts.slice(i).join('/');
      return i < parts.length ? params : null;
    }
    const part = parts[i];
    if (part === undefined) return null;
    if (seg.kind === 'literal') {
      if (part !== seg.text) return null;
    } else {
      if (part === '') return null;
      params[seg.text] = part;
    }
  }
  return parts.length === segments.length ? params : null;
}

export class Router<H> {
  private readonly routes: Route<H>[] = [];

  add(methods: string | string[], pattern: string, handler: H): this {
    for (const method of Array.isArray(methods) ? methods : [methods]) {
      this.routes.push({ method, pattern, handler, segments: compile(pattern) });
    }
    return this;
  }

  private candidates(path: string): Array<{ route: Route<H>; params: Record<string, string> }> {
    const out = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, path);
      if (params) out.push({ route, params });
    }
    return out;
  }

  /** Resolve a decoded path (no query) for a method. */
  match(method: string, path: string, search = ''): RouteMatch<H> {
    const found = this.candidates(path);
    const hit = found.find((c) => c.route.method === method);
    if (hit) return { type: 'found', handler: hit.route.handler, params: hit.params, pattern: hit.route.pattern };
    if (found.length > 0) {
      const allow = [...new Set(found.map((c) => c.route.method).concat('OPTIONS'))].sort();
      return { type: 'method-not-allowed', allow };
    }
    if (method !== 'CONNECT' && path !== '/') {
      const other = path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
      if (this.candidates(other).some((c) => c.route.method === method)) {
        return { type: 'redirect', location: other + search, status: method === 'GET' ? 301 : 308 };
      }
    }
    return { type: 'not-found' };
  }

  /** Methods registered for a path (automatic OPTIONS answers). */
  allowed(path: string): string[] {
    const found = this.candidates(path);
    if (found.length === 0) return [];
    return [...new Set(found.map((c) => c.route.method).concat('OPTIONS'))].sort();
  }
}
