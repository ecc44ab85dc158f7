const secretKey = /PASSWORD|TOKEN|SECRET/i;

/** Replaces the password in `scheme://user:password@host` with `***`. */
export function maskUrl(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]*)@/gi, '$1***@');
}

/** A deep copy with passwords in URLs and values of keys named like *PASSWORD*, *TOKEN*, *SECRET* masked. */
export function maskSecrets(value: unknown): unknown {
  if (typeof value === 'string') return maskUrl(value);
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        secretKey.test(key) && typeof inner === 'string' ? '***' : maskSecrets(inner),
      ]),
    );
  }
  return value;
}
