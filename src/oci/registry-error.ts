/**
 * Registry failures as ImagekitErrors (dependency, exit 5), shaped after the distribution spec's
 * error body `{"errors":[{"code","message","detail"}]}` (go-containerregistry
 * `remote/transport/error.go`): status, the registry's codes, a redacted URL, never a credential.
 */
import { dependency, type ImagekitError } from '../core/errors.js';

/** Bodies of failed requests are read up to this size (hostile servers cannot make us allocate more). */
export const maxErrorBodyBytes = 64 * 1024;

export interface RegistryDiagnostic {
  code: string;
  message?: string;
}

/** Strip credentials and query strings (signed CDN URLs carry tokens) from a URL for messages. */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    u.username = '';
    u.password = '';
    const q = u.search ? '?…' : '';
    u.search = '';
    u.hash = '';
    return u.toString() + q;
  } catch {
    return '(invalid URL)';
  }
}

export function parseErrorBody(text: string): RegistryDiagnostic[] {
  try {
    const doc = JSON.parse(text) as { errors?: unknown };
    if (!doc || !Array.isArray(doc.errors)) return [];
    return doc.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string')
      .slice(0, 8)
      .map((e) => ({ code: String(e.code).slice(0, 64), ...(typeof e.message === 'string' ? { message: e.message.slice(0, 200) } : {}) }));
  } catch {
    return [];
  }
}

const statusCodes: Record<number, string> = {
  401: 'E_REGISTRY_UNAUTHORIZED',
  403: 'E_REGISTRY_DENIED',
  404: 'E_REGISTRY_NOT_FOUND',
  416: 'E_REGISTRY_RANGE',
  429: 'E_REGISTRY_RATE_LIMITED',
};

export interface RegistryErrorInfo {
  what: string;
  method: string;
  url: string | URL;
  status: number;
  statusText?: string;
  body?: string;
  hint?: string;
}

export function registryError(info: RegistryErrorInfo): ImagekitError {
  const diags = info.body ? parseErrorBody(info.body) : [];
  const code = statusCodes[info.status] ?? (info.status >= 500 ? 'E_REGISTRY_UNAVAILABLE' : 'E_REGISTRY_HTTP');
  let detail = diags.map((d) => (d.message ? `${d.code}: ${d.message}` : d.code)).join('; ');
  if (!detail && info.method === 'HEAD') detail = 'HEAD responses have no body, use GET for details';
  const status = `${info.status}${info.statusText ? ' ' + info.statusText : ''}`;
  const msg = `${info.what}: ${info.method} ${redactUrl(info.url)} returned ${status}${detail ? ` (${detail})` : ''}${info.hint ? `; ${info.hint}` : ''}`;
  const err = dependency(code, msg);
  Object.defineProperty(err, 'status', { value: info.status, enumerable: false });
  return err;
}

/** The HTTP status carried by a registry error (undefined for other errors). */
export function registryErrorStatus(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? ((err as { status?: number }).status ?? undefined) : undefined;
}
