import { usageError } from './errors.ts';

const loopbackHosts = new Set(['localhost', '[::1]', '::1']);

/** True when a URL's host is loopback (127.0.0.0/8, ::1 or localhost): the only place pooltune sends load. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return loopbackHosts.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** A load target URL split for the drivers; a URL that is not loopback (or not a URL) is a usage error. */
export function loopbackTarget(url: string): { url: string; origin: string; pathPrefix: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`target URL ${url} is not a valid URL`, 'use http://127.0.0.1:PORT');
  }
  if (!isLoopbackUrl(url)) {
    throw usageError(
      `target URL ${url} is not a loopback address`,
      'pooltune only sends load to 127.0.0.1 or ::1',
    );
  }
  return { url, origin: parsed.origin, pathPrefix: parsed.pathname.replace(/\/+$/, '') };
}
