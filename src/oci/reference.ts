/**
 * Image references: `[registry[:port]/]repository[:tag][@digest]`, normalised as docker does
 * (distribution `reference` grammar; go-containerregistry `pkg/name`): no registry means Docker Hub
 * (`docker.io`), a one-component Hub repository gets `library/`, `index.docker.io` is `docker.io`,
 * and with both a tag and a digest the digest decides what is pulled (the tag is kept for display).
 */
import { ExitCode, invalidInput, unsupported, type ImagekitError } from '../core/errors.js';
import { parseDigest } from './digest.js';

export const dockerHub = 'docker.io';
/** Where the Docker Hub API really lives. */
export const dockerHubApiHost = 'registry-1.docker.io';
export const defaultTag = 'latest';

export interface ImageReference {
  /** Registry host with optional port, e.g. `ghcr.io`, `docker.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository path, e.g. `siderolabs/installer`, `library/alpine`. */
  repository: string;
  /** Tag, when one was given (or the default tag when neither tag nor digest was given). */
  tag?: string;
  /** Digest, when one was given; it wins over the tag. */
  digest?: string;
}

const maxReferenceLength = 1024;
const maxNameLength = 255; // distribution NameTotalLengthMax (registry + repository)
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainRe = new RegExp(`^(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]{1,5})?$`);
const pathComponentRe = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagRe = /^[\w][\w.-]{0,127}$/;

function bad(input: string, why: string): never {
  throw invalidInput('E_REFERENCE_INVALID', `invalid image reference ${JSON.stringify(input.slice(0, 300))}: ${why}`);
}

/** Parse an image reference. A reference with neither tag nor digest gets `defaultTag` (`latest`). */
export function parseReference(input: string, opts: { defaultTag?: string | null } = {}): ImageReference {
  if (typeof input !== 'string') bad(String(input), 'not a string');
  if (input.length === 0) bad(input, 'empty');
  if (input.length > maxReferenceLength) bad(input, `longer than ${maxReferenceLength} characters`);
  if (/\s/.test(input)) bad(input, 'contains white space');
  if (input.includes('://')) bad(input, 'a reference has no URL scheme (write host/repository:tag)');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      parseDigest(digest, 'reference digest');
    } catch (err) {
      const e = err as ImagekitError;
      const why = e.message.replace(/^reference digest: /, '');
      if (e.exitCode === ExitCode.unsupported) throw unsupported(e.code, `image reference ${JSON.stringify(input.slice(0, 300))}: ${why}`);
      bad(input, why);
    }
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagRe.test(tag)) bad(input, `tag ${JSON.stringify(tag)} must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  if (rest === '') bad(input, 'missing repository name');

  // Docker's rule: the first component is a registry when it has a dot or a colon, or is `localhost`,
  // or is not all lower case; otherwise the whole name is a Docker Hub repository.
  let registry = dockerHub;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (!domainRe.test(registry)) bad(input, `registry ${JSON.stringify(registry)} is not a valid host[:port]`);
  const port = /:(\d+)$/.exec(registry);
  if (port && (Number(port[1]) === 0 || Number(port[1]) > 65535)) bad(input, `registry port ${port[1]} out of range`);
  if (registry === 'index.docker.io') registry = dockerHub;
  if (repository === '') bad(input, 'missing repository name');
  for (const comp of repository.split('/')) {
    if (comp === '') bad(input, 'empty path component in repository');
    if (comp !== comp.toLowerCase()) bad(input, `repository ${JSON.stringify(repository)} must be lower case`);
    if (!pathComponentRe.test(comp)) bad(input, `repository component ${JSON.stringify(comp)} is not valid ([a-z0-9] separated by ".", "_", "__" or "-")`);
  }
  if (registry === dockerHub && !repository.includes('/')) repository = `library/${repository}`;
  if (registry.length + 1 + repository.length > maxNameLength) bad(input, `name longer than ${maxNameLength} characters`);

  if (tag === undefined && digest === undefined && opts.defaultTag !== null) tag = opts.defaultTag ?? defaultTag;
  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `registry/repository` (the name without tag or digest). */
export function referenceName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The full canonical form: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  let s = referenceName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** What a manifest request asks for: the digest when there is one, else the tag. */
export function referenceIdentifier(ref: ImageReference): string {
  const id = ref.digest ?? ref.tag;
  if (id === undefined) throw invalidInput('E_REFERENCE_INVALID', `image reference ${referenceName(ref)} has neither tag nor digest`);
  return id;
}

/** The same repository at another digest (e.g. a platform's manifest picked from an index). */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  const out: ImageReference = { registry: ref.registry, repository: ref.repository, digest };
  if (ref.tag !== undefined) out.tag = ref.tag;
  return out;
}

/** Whether a registry host is loopback (plain HTTP is then used, as containerd and go-containerregistry do). */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registryHostname(registry);
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]' || host === '::1';
}

/** The host part of `host[:port]` (IPv6 keeps its brackets). */
export function registryHostname(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(0, registry.indexOf(']') + 1);
  const c = registry.lastIndexOf(':');
  return c >= 0 ? registry.slice(0, c) : registry;
}
