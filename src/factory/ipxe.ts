/**
 * iPXE scripts of `GET /pxe/:schematic/:version/:path` (image-factory.md §3; upstream
 * `standard.ipxe` / `secureboot.ipxe`, rendered with text/template, so nothing is escaped).
 */

/**
 * Go `url.JoinPath`: the elements appended to the base URL's path, the result cleaned of duplicate
 * slashes and `.`/`..` elements. The elements the service passes (`image`, an ID, a version tag, an
 * asset name) are path-safe by construction; anything else is percent-encoded.
 */
export function joinUrlPath(base: string, ...elements: string[]): string {
  const u = new URL(base);
  const joined = [u.pathname, ...elements.map((e) => e.split('/').map(encodeSegment).join('/'))].join('/');
  const trailing = elements.length > 0 && elements[elements.length - 1]!.endsWith('/');
  const out: string[] = [];
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  u.pathname = '/' + out.join('/') + (trailing && out.length > 0 ? '/' : '');
  return u.toString();
}

function encodeSegment(s: string): string {
  return s.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]/g, (c) => encodeURIComponent(c));
}

export interface StandardIpxe {
  kernelUrl: string;
  initramfsUrl: string;
  cmdline: string;
}

export function standardIpxe(s: StandardIpxe): string {
  return `#!ipxe\n\nimgfree\nkernel ${s.kernelUrl} ${s.cmdline}\ninitrd ${s.initramfsUrl}\nboot\n`;
}

export function secureBootIpxe(s: { ukiUrl: string; cmdline: string }): string {
  return `#!ipxe\n\nimgfree\nkernel ${s.ukiUrl} ${s.cmdline}\nboot\n`;
}
