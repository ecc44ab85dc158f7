import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Readiness } from '../config/schema.ts';
import { targetError } from '../errors.ts';
import type { StartedChild } from './child.ts';

/** A readiness rule in words, for messages: `http GET /healthz on 127.0.0.1:4312`. */
export function describeReadiness(rule: Readiness, port: number): string {
  if ('http' in rule) return `http GET ${rule.http} on 127.0.0.1:${port} answering 2xx`;
  if ('tcp' in rule) return `tcp connect to 127.0.0.1:${port}`;
  if ('log' in rule) return `a log line matching /${rule.log}/`;
  return `command \`${rule.command.join(' ')}\` exiting 0`;
}

/**
 * Waits until `child` passes its readiness rule. Fails with exit code 5 (naming the rule, the time
 * waited and the log tail) when it exits first or the rule's timeout passes.
 */
export async function waitReady(child: StartedChild, rule: Readiness, port: number): Promise<void> {
  const started = Date.now();
  const rulePassed = new AbortController();
  const checks = passes(rule, port, child, rulePassed.signal);
  const exitedFirst = child.exited.then((exit) => ({ exit }));
  const timedOut = new Promise<'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), rule.timeoutMs);
    rulePassed.signal.addEventListener('abort', () => clearTimeout(timer));
  });
  const outcome = await Promise.race([checks.then(() => 'ready' as const), exitedFirst, timedOut]);
  rulePassed.abort();
  if (outcome === 'ready') return;
  const waited = ((Date.now() - started) / 1000).toFixed(1);
  const how = describeReadiness(rule, port);
  const tail = child.log.lines().slice(-15);
  if (outcome === 'timeout') {
    throw targetError(
      `service "${child.name}" never became ready: waited ${waited} s for ${how}`,
      'check the log tail below; raise readiness.timeoutMs if it is only slow',
      tail,
    );
  }
  const { code, signal } = outcome.exit;
  throw targetError(
    `service "${child.name}" exited (${signal ?? `code ${code}`}) before it was ready (waiting for ${how})`,
    'check the log tail below',
    tail,
  );
}

async function passes(
  rule: Readiness,
  port: number,
  child: StartedChild,
  signal: AbortSignal,
): Promise<void> {
  if ('log' in rule) {
    const pattern = new RegExp(rule.log);
    if (child.log.lines().some((line) => pattern.test(line))) return;
    await new Promise<void>((resolve) => {
      const stop = child.log.onLine((line) => {
        if (pattern.test(line)) {
          stop();
          resolve();
        }
      });
      signal.addEventListener('abort', () => {
        stop();
        resolve();
      });
    });
    return;
  }
  const probe =
    'http' in rule
      ? () => httpOk(port, rule.http)
      : 'tcp' in rule
        ? () => tcpOpen(port)
        : () => commandOk(rule.command);
  while (!signal.aborted) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function httpOk(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: 2_000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

function commandOk(command: readonly string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const [file, ...args] = command;
    if (file === undefined) return resolve(false);
    const child = spawn(file, args, { stdio: 'ignore', timeout: 5_000 });
    child.once('exit', (code) => resolve(code === 0));
    child.once('error', () => resolve(false));
  });
}
