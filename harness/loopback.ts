import { usageError } from './errors.ts';

const loopbackHosts = new Set(['localhost', '[::1]', '::1']);

/**
 * Where load may go besides loopback: nowhere, unless the config sets `allowRemote: true` and lists the
 * host in `allowHosts`. A validated config has both keys, so it can be passed as is.
 */
export interface RemotePolicy {
  readonly allowRemote: boolean;
  readonly allowHosts: readonly string[];
}

/** The default: loopback only. */
export const loopbackOnly: RemotePolicy = { allowRemote: false, allowHosts: [] };

/** True when a host name is loopback (127.0.0.0/8, ::1 or localhost). */
function isLoopbackHost(host: string): boolean {
  return loopbackHosts.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** True when a URL's host is loopback (127.0.0.0/8, ::1 or localhost): where pooltune sends load by default. */
export function isLoopbackUrl(url: string): boolean {
  return isLoopbackHost(new URL(url).hostname);
}

/** A host as compared with `allowHosts`: lower case, without IPv6 brackets or a trailing dot. */
function normalHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/**
 * Why load may not go to `url` under `policy`, or undefined when it may. Pure: nothing is resolved or
 * contacted, so the decision is made before any load. Hosts match `allowHosts` exactly (no wildcards).
 */
export function remoteTargetProblem(url: string, policy: RemotePolicy = loopbackOnly): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return `${url} is not a valid URL`;
  }
  if (isLoopbackHost(host)) return undefined;
  if (!policy.allowRemote) {
    return `${url} is not a loopback address; pooltune only sends load to 127.0.0.1, ::1 or localhost unless allowRemote is true and the host is in allowHosts`;
  }
  const allowed = policy.allowHosts.map(normalHost);
  if (!allowed.includes(normalHost(host))) {
    return `host ${normalHost(host)} is not in allowHosts (${allowed.length === 0 ? 'empty' : allowed.join(', ')})`;
  }
  return undefined;
}

/**
 * A load target URL split for the drivers. A URL that is not loopback (nor allowed by `policy`), or not
 * a URL at all, is a usage error: the drivers' last check before any request is sent.
 */
export function loopbackTarget(
  url: string,
  policy: RemotePolicy = loopbackOnly,
): { url: string; origin: string; pathPrefix: string } {
  const problem = remoteTargetProblem(url, policy);
  if (problem !== undefined) {
    throw usageError(
      `target URL ${problem}`,
      'use http://127.0.0.1:PORT, or set allowRemote: true and list the host in allowHosts',
    );
  }
  const parsed = new URL(url);
  return { url, origin: parsed.origin, pathPrefix: parsed.pathname.replace(/\/+$/, '') };
}
