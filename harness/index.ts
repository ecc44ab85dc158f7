// The programmatic API. The CLI is a thin shell over these functions.
import './polyfills.ts';
import type { UserConfig } from './config/schema.ts';

/** Typed identity for `pooltune.config.ts`: `export default defineConfig({ ... })`. */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}

export { scenarios } from '../scenarios/index.ts';
export { bundledTargets } from '../targets/index.ts';
export { type CompareOptions, compareRuns, type RunComparison } from './analysis/compare.ts';
export { envLayer, mergeLayers, validateConfig } from './config/layers.ts';
export { readConfigFile } from './config/load.ts';
export { type Catalogue, isLoopbackUrl, type Plan, resolvePlan } from './config/plan.ts';
export type { Config, TargetDefinition, TargetInput, UserConfig } from './config/schema.ts';
export type { Driver, DriverName, DriverRequest, DriverResult, LatencySummary } from './drivers/driver.ts';
export { ExitCode, PooltuneError } from './errors.ts';
export type { HostSystem } from './host/host.ts';
export { nodeSystem } from './host/node-host.ts';
export { compareRunPaths } from './report/compare-report.ts';
export { writeReport as renderReport } from './report/write-report.ts';
export type { Manifest } from './results/manifest.ts';
export type { TrialResult } from './results/trial.ts';
export { readTrialLog } from './results/trial-log.ts';
export { type RunEnvironment, type RunOutcome, runOnce, tune } from './run/tune.ts';
export { startTarget } from './runtime/process-runtime.ts';
export type { StartedTarget } from './runtime/service.ts';
export type { Progress } from './tuning/progress.ts';
export { runTrial } from './tuning/run-trial.ts';
