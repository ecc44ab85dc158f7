import path from 'node:path';
import type { TargetInput } from '../../harness/config/schema.ts';
import { certFileName, tlsDir } from './tls.ts';

/**
 * The second bundled target: a Node HTTP API whose undici `Pool` calls an upstream HTTP(S) service. It
 * shows what keep-alive buys (no connect or TLS handshake per call) and the classic keep-alive race: a
 * client that keeps idle connections longer than the upstream does reuses connections the upstream has
 * already given up on, and those requests fail with ECONNRESET.
 */
export const httpUpstream: TargetInput = {
  name: 'http-upstream',
  description: 'Node HTTP API with an undici Pool calling an upstream HTTP(S) service',
  entry: 'api',
  poolKnob: 'connections',
  pools: [
    {
      name: 'upstream',
      service: 'api',
      library: 'undici',
      knobs: {
        size: 'connections',
        idleTimeout: 'keepAliveTimeout',
        connectTimeout: 'connectTimeout',
        readTimeout: 'requestTimeout',
        keepAlive: 'keepAlive',
        serverIdleTimeout: 'upstreamKeepAliveMs',
      },
    },
  ],
  services: {
    upstream: {
      command: '{{node}}',
      args: ['--import', 'tsx', '{{packageRoot}}/targets/http-upstream/upstream.ts'],
      cwd: '{{packageRoot}}',
      env: {
        PORT: '{{port}}',
        TLS: '{{knobs.tls}}',
        // Both processes derive the certificate's folder from the upstream's port (see tls.ts).
        TLS_DIR: tlsDir('{{port}}'),
        WORK_MS: '2',
        UPSTREAM_KEEP_ALIVE_MS: '{{knobs.upstreamKeepAliveMs}}',
        UPSTREAM_KEEP_ALIVE_HEADER: '{{knobs.upstreamKeepAliveHeader}}',
        UPSTREAM_IDLE_CLOSE: '{{knobs.upstreamIdleClose}}',
      },
      // A log line rather than an HTTP probe: with TLS on the upstream speaks only HTTPS. Its /metrics
      // (upstream_connections_opened_total, ...) is read by tests, not by the collector, which reads the entry.
      readiness: { log: 'upstream listening', timeoutMs: 30_000 },
    },
    api: {
      command: '{{node}}',
      args: ['--import', 'tsx', '{{packageRoot}}/targets/http-upstream/server.ts'],
      cwd: '{{packageRoot}}',
      env: {
        PORT: '{{port}}',
        UPSTREAM_PORT: '{{services.upstream.port}}',
        UPSTREAM_TLS: '{{knobs.tls}}',
        UPSTREAM_CA_FILE: path.join(tlsDir('{{services.upstream.port}}'), certFileName),
        POOL_CONNECTIONS: '{{knobs.connections}}',
        POOL_KEEP_ALIVE_TIMEOUT_MS: '{{knobs.keepAliveTimeout}}',
        POOL_CONNECT_TIMEOUT_MS: '{{knobs.connectTimeout}}',
        POOL_PIPELINING: '{{knobs.pipelining}}',
        POOL_KEEP_ALIVE: '{{knobs.keepAlive}}',
        POOL_REQUEST_TIMEOUT_MS: '{{knobs.requestTimeout}}',
      },
      readiness: { http: '/healthz', timeoutMs: 30_000 },
      metrics: { path: '/metrics' },
      dependsOn: ['upstream'],
    },
  },
  knobs: {
    connections: {
      type: 'int',
      description: 'pool size: most connections the undici Pool opens to the upstream',
      unit: 'connections',
      min: 1,
      max: 256,
      scale: 'log',
      default: 10,
    },
    keepAliveTimeout: {
      type: 'int',
      description:
        "an idle pooled connection is closed after this long; a Keep-Alive: timeout=N response header overrides it with N s minus undici's 2 s threshold",
      unit: 'ms',
      // undici rejects 0: "never" is the maximum.
      min: 1,
      max: 3_600_000,
      default: 4_000,
    },
    connectTimeout: {
      type: 'int',
      description: 'longest wait for a TCP connect plus TLS handshake (0 = forever)',
      unit: 'ms',
      min: 0,
      max: 600_000,
      default: 10_000,
    },
    requestTimeout: {
      type: 'int',
      description: "undici's headersTimeout and bodyTimeout for each upstream request (0 = never)",
      unit: 'ms',
      min: 0,
      max: 600_000,
      default: 300_000,
    },
    pipelining: {
      type: 'int',
      description: 'requests in flight per connection (0 disables keep-alive)',
      unit: 'requests',
      min: 0,
      max: 16,
      default: 1,
    },
    keepAlive: {
      type: 'bool',
      description: 'reuse connections; off sends connection: close, so every call opens a new connection',
      default: true,
    },
    upstreamKeepAliveMs: {
      type: 'int',
      description: "the upstream's own idle timeout for keep-alive connections (0 = never)",
      unit: 'ms',
      min: 0,
      max: 3_600_000,
      default: 5_000,
    },
    upstreamKeepAliveHeader: {
      type: 'bool',
      description:
        'the upstream announces its idle timeout in a Keep-Alive: timeout=N header, as Node does; many servers and load balancers do not',
      default: true,
    },
    upstreamIdleClose: {
      type: 'enum',
      description:
        'how the upstream drops an idle connection: fin closes it (undici notices before reuse); silent forgets it like a load balancer, and the next request on it gets a TCP RST',
      values: ['fin', 'silent'],
      default: 'fin',
    },
    tls: {
      type: 'bool',
      description: 'HTTPS to the upstream with a self-signed certificate made by the openssl CLI',
      default: false,
    },
  },
};
