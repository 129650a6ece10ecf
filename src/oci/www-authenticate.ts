/**
 * `WWW-Authenticate` challenges (RFC 7235): `Bearer realm="…",service="…",scope="…"` from the
 * distribution token flow, or `Basic realm="…"`. Several challenges may share one header.
 */
export interface AuthChallenge {
  /** Lower-case scheme: `bearer`, `basic`, … */
  scheme: string;
  params: Record<string, string>;
}

const maxHeader = 16 * 1024;

/** Parse every challenge in a header value; malformed tails are ignored. */
export function parseWwwAuthenticate(header: string | null | undefined): AuthChallenge[] {
  if (!header) return [];
  const s = header.slice(0, maxHeader);
  const out: AuthChallenge[] = [];
  let i = 0;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const token = () => {
    const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(s.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  while (i < s.length) {
    skipWs();
    while (s[i] === ',') {
      i++;
      skipWs();
    }
    const scheme = token();
    if (!scheme) break;
    const ch: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    // Parameters: name=value pairs separated by commas, until a token not followed by '='.
    for (;;) {
      skipWs();
      const save = i;
      const name = token();
      if (!name) break;
      skipWs();
      if (s[i] !== '=') {
        i = save; // the start of the next challenge
        break;
      }
      i++;
      skipWs();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++;
      } else {
        // Lenient: unquoted values up to the next comma (servers send bare URLs).
        const m = /^[^\s,]*/.exec(s.slice(i))!;
        value = m[0];
        i += value.length;
      }
      ch.params[name.toLowerCase()] = value;
      skipWs();
      if (s[i] === ',') i++;
      else break;
    }
  }
  return out;
}
