#!/usr/bin/env node
// The pooltune CLI. It runs the TypeScript sources through tsx, so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../harness/host/node-host.ts');
await runCli();
