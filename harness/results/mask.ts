/** What a masked secret is replaced with. */
export const MASK = '***';

const secretName = /PASSWORD|TOKEN|SECRET/i;

/** Literal secrets shorter than this are masked only in URLs and `NAME=value` forms (not wherever they occur). */
const minLiteralLength = 6;

/** True for names like `DB_PASSWORD`, `apiToken` or `client_secret`, whose values are never written. */
export function isSecretName(name: string): boolean {
  return secretName.test(name);
}

const urlPassword = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]*)@/gi;

/** Replaces the password in `scheme://user:password@host` with `***`. */
export function maskUrl(text: string): string {
  return text.replace(urlPassword, `$1${MASK}@`);
}

// `DB_PASSWORD=x`, `password: x`, `"apiToken": "x"`, `--db-password=x`, `?token=x&`: the name, then the
// value. The name starts a word and is short, so base64 (a histogram) never looks like one.
const secretAssignment =
  /(?<![A-Za-z0-9_.+/-])([A-Za-z0-9_.-]{0,40}(?:password|token|secret)[A-Za-z0-9_.-]{0,40}["']?\s*[=:]\s*["']?)([^\s"',;&]+)/gi;

/** Masks secrets in free text: passwords in URLs and the values of `NAME=value` pairs named like secrets. */
export function maskText(text: string): string {
  return maskUrl(text).replace(secretAssignment, (_all, name: string, value: string) =>
    value === MASK ? `${name}${value}` : `${name}${MASK}`,
  );
}

/**
 * A deep copy with values of keys named like *PASSWORD*, *TOKEN*, *SECRET* masked, and every other
 * string masked as free text (passwords in URLs, `NAME=value` pairs).
 */
export function maskSecrets<T>(value: T): T {
  return maskDeep(value) as T;
}

function maskDeep(value: unknown): unknown {
  if (typeof value === 'string') return maskText(value);
  if (Array.isArray(value)) return value.map(maskDeep);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        isSecretName(key) && typeof inner === 'string' ? MASK : maskDeep(inner),
      ]),
    );
  }
  return value;
}

/**
 * The literal secrets in a value (a config, an environment): the string values of keys named like
 * secrets, and the passwords in URLs, wherever they are nested. Absolute paths (`*_PASSWORD_FILE`)
 * are not secrets, and masking them would garble every path printed.
 */
export function secretValues(value: unknown): string[] {
  const found = new Set<string>();
  const visit = (inner: unknown, key: string) => {
    if (typeof inner === 'string') {
      if (isSecretName(key)) found.add(inner);
      for (const match of inner.matchAll(urlPassword)) found.add(match[2] ?? '');
    } else if (Array.isArray(inner)) {
      for (const item of inner) visit(item, key);
    } else if (typeof inner === 'object' && inner !== null) {
      for (const [name, item] of Object.entries(inner)) visit(item, name);
    }
  };
  visit(value, '');
  return [...found].filter(
    (secret) => secret.length >= minLiteralLength && secret !== MASK && !secret.startsWith('/'),
  );
}

/**
 * Masks free text (see {@link maskText}) and, wherever they occur, the literal secrets it has been told
 * about: what a service prints of its own password is masked even without a `NAME=` before it.
 */
export class SecretMasker {
  readonly #secrets = new Set<string>();

  /** Adds literal secrets (from {@link secretValues}); short ones are ignored. */
  add(secrets: Iterable<string>): void {
    for (const secret of secrets) {
      if (secret.length >= minLiteralLength && secret !== MASK) this.#secrets.add(secret);
    }
  }

  /** The text with every known secret, URL password and secret `NAME=value` masked. */
  mask(text: string): string {
    let masked = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const secret of [...this.#secrets].sort((a, b) => b.length - a.length)) {
      masked = masked.split(secret).join(MASK);
    }
    return maskText(masked);
  }
}
