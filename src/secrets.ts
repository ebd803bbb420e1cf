/**
 * What of an endpoint is secret, and the one way it is masked in text we show.
 *
 * Every part of a webhook or custom URL but its scheme, host and port is secret: the path
 * (a Slack webhook's token, `https://host/SECRET`), the query (`?token=`, `?code=`, `?sig=`),
 * the fragment and the user info; so is a routing key. A service, a proxy or a library may
 * quote any of them back, whole or in part, raw, percent-encoded or decoded, or JSON-escaped
 * (`https:\/\/host\/...`), so each part is listed in all those forms.
 */

/** Shortest part of a path or query masked on its own (shorter ones only inside longer parts). */
export const MIN_SECRET_CHARS = 4;

/** Replaces every occurrence of each secret (longest first) by `***`. Empty secrets are ignored. */
export function redact(text: string, secrets: readonly string[]): string {
  return secrets
    .filter(Boolean)
    .sort((a, b) => b.length - a.length)
    .reduce((out, secret) => out.split(secret).join('***'), text);
}

/**
 * The strings that must not appear in text about an endpoint: every part of `url` but scheme,
 * host and port ({@link urlSecrets}) and the routing key, each in the forms a service quotes.
 */
export function endpointSecrets(url: string | undefined, routingKey?: string): string[] {
  const secrets = url ? urlSecrets(url) : [];
  if (routingKey) secrets.push(...formsOf(routingKey), ...formsOf(routingKey.trim()));
  return unique(secrets);
}

/**
 * The secret strings of a URL: the whole URL (as written and normalised); the part after the
 * host; the path and each of its segments; the query and each of its values; the fragment; the
 * user name and password. Each as written, percent-decoded, percent-encoded (upper and lower case
 * hex) and JSON-escaped (with `/` as `\/` too). Parts shorter than {@link MIN_SECRET_CHARS} are
 * left out (they would mask unrelated text), except the user name and password. A value that is
 * not a URL is secret as a whole. `user:password` is listed too, also in base64 (Basic auth).
 */
export function urlSecrets(url: string): string[] {
  const written = url.trim();
  let u: URL;
  try {
    u = new URL(written);
  } catch {
    return unique([...formsOf(url), ...formsOf(written)]);
  }
  const long = (s: string) => s.length >= MIN_SECRET_CHARS;
  const parts = [
    url,
    written,
    u.href,
    u.href.replace(/#.*$/, ''),
    u.pathname + u.search + u.hash,
    u.pathname + u.search,
    u.search + u.hash,
  ];
  // what follows the host as written (new URL normalises: dot segments, encoding)
  const rest = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*(.*)$/is.exec(written)?.[1];
  if (rest) parts.push(rest, rest.replace(/#.*$/, ''));
  parts.push(u.pathname, ...u.pathname.split('/'));
  if (rest) parts.push(...rest.replace(/[?#].*$/s, '').split('/'));
  const query = u.search.slice(1);
  parts.push(u.search, query);
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    parts.push(pair, eq >= 0 ? pair.slice(eq + 1) : '');
  }
  for (const value of u.searchParams.values()) parts.push(value);
  parts.push(u.hash, u.hash.slice(1));
  const secrets = parts.filter(long).flatMap(formsOf).filter(long);
  const user = [u.username, decoded(u.username)].filter(Boolean);
  const password = [u.password, decoded(u.password)].filter(Boolean);
  // user:password, and as Basic credentials (base64) an answer may quote from the request
  for (const name of user.length ? user : ['']) {
    for (const pw of password.length ? password : ['']) {
      if (!name && !pw) continue;
      secrets.push(`${name}:${pw}`, Buffer.from(`${name}:${pw}`).toString('base64'));
    }
  }
  secrets.push(...user.flatMap(formsOf), ...password.flatMap(formsOf));
  return unique(secrets.filter(Boolean));
}

/**
 * A label for status, logs and errors that never shows a secret: `scheme://host[:port]`, and
 * `/…` when anything follows (path, query, fragment). `https://hooks.slack.com/…`,
 * `http://127.0.0.1:8080/…`, `https://example.com`.
 */
export function describeEndpoint(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return '(invalid URL)';
  }
  const more = u.pathname.length > 1 || u.search !== '' || u.hash !== '' || /[?#]$/.test(url.trim());
  const origin = u.host ? `${u.protocol}//${u.host}` : u.protocol;
  return `${origin}${more ? '/…' : ''}`;
}

/** `s` as written, percent-decoded (also `+` as space), percent-encoded and JSON-escaped. */
function formsOf(s: string): string[] {
  if (!s) return [];
  const plain = [s, decoded(s), decoded(s.replace(/\+/g, ' '))];
  const all = [...plain, ...plain.flatMap((p) => [encoded(p, encodeURIComponent), encoded(p, encodeURI)])];
  all.push(...all.filter((f) => /%[0-9A-F]{2}/.test(f)).map((f) => f.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())));
  const json = all.map((f) => JSON.stringify(f).slice(1, -1));
  return [...all, ...json, ...json.map((f) => f.replace(/\//g, '\\/'))];
}

function encoded(s: string, encode: (s: string) => string): string {
  try {
    return encode(s);
  } catch {
    return s; // a lone surrogate
  }
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function unique(list: string[]): string[] {
  return [...new Set(list.filter(Boolean))];
}
