import { createServer } from 'node:net';
import { usageError } from '../errors.ts';

/** A port the OS says is free on 127.0.0.1 right now (it may be taken again before use; rare). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Throws a usage error naming the service when a fixed port is already in use on 127.0.0.1. */
export function assertPortFree(port: number, service: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? usageError(
              `port ${port} of service "${service}" is already in use`,
              `stop what listens there, or set services.${service}.port to "auto"`,
            )
          : error,
      );
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** The port a service listens on: its fixed port after checking it is free, or a free one. */
export async function choosePort(port: number | 'auto', service: string): Promise<number> {
  if (port === 'auto') return freePort();
  await assertPortFree(port, service);
  return port;
}
