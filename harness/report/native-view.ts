import { isMeasured, type MeasuredTrial, type TrialResult } from '../results/trial.ts';
import type { StepReport } from '../tuning/step.ts';
import { stepIds } from '../tuning/step.ts';
import type { PoolSizeData } from './chart-data.ts';
import { formatFixed, NOT_AVAILABLE } from './format.ts';

/**
 * A small table of the target's native pool figures (`metrics.native`, e.g. pgBouncer's `cl_waiting`):
 * a header row, then rows each headed by a figure's label or a pool size. Every cell is formatted.
 */
export interface NativeTable {
  readonly caption: string;
  /** The first column's header, e.g. `figure` or the size knob. */
  readonly corner: string;
  readonly columns: readonly string[];
  readonly rows: readonly { readonly head: string; readonly cells: readonly string[] }[];
  /** The trials the figures come from. */
  readonly trialIds: readonly string[];
}

/** One trial's native figure, as the collector recorded it over the measurement window. */
export type NativeFigure = { readonly mean: number; readonly max: number };

function nativeOf(trial: TrialResult): Readonly<Record<string, NativeFigure>> | undefined {
  if (!isMeasured(trial)) return undefined;
  const native = trial.server.native;
  return native === undefined || Object.keys(native).length === 0 ? undefined : native;
}

/** True when some trial carries native pool figures: the report shows them only then. Pure. */
export function hasNativeFigures(trials: readonly TrialResult[]): boolean {
  return trials.some((trial) => nativeOf(trial) !== undefined);
}

/** The native labels of the trials, in the order the target declares them (first seen first). */
function labelsOf(trials: readonly MeasuredTrial[]): string[] {
  return [...new Set(trials.flatMap((trial) => Object.keys(nativeOf(trial) ?? {})))];
}

/** A native figure: counts whole, fractions to two decimals below 10 and one above. */
export function formatNative(value: number): string {
  if (!Number.isFinite(value)) return NOT_AVAILABLE;
  return formatFixed(value, Number.isInteger(value) ? 0 : Math.abs(value) < 10 ? 2 : 1);
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Completed trials of `ids` that carry native figures, in the order of `ids`. */
function withNative(ids: readonly string[], byId: ReadonlyMap<string, TrialResult>): MeasuredTrial[] {
  return ids
    .map((id) => byId.get(id))
    .filter(
      (trial): trial is MeasuredTrial => trial?.status === 'completed' && nativeOf(trial) !== undefined,
    );
}

/** The native figures of a run's peak test: each label's mean and max over its peak trials. */
export interface PeakNative {
  readonly trialIds: readonly string[];
  /** The peak scenarios, e.g. `peak@1500`. */
  readonly scenarios: readonly string[];
  /** By label: the mean of the trials' means, and the highest sample any of them saw. */
  readonly figures: Readonly<Record<string, NativeFigure>>;
}

/**
 * The native figures over the completed peak trials (`peak@…`; bursts are left out) among `trials`;
 * undefined when none of them carries native figures. Pure.
 */
export function peakNative(trials: readonly (TrialResult | undefined)[]): PeakNative | undefined {
  const peaks = trials.filter(
    (trial): trial is MeasuredTrial =>
      trial?.status === 'completed' && trial.scenario.startsWith('peak@') && nativeOf(trial) !== undefined,
  );
  if (peaks.length === 0) return undefined;
  return {
    trialIds: peaks.map((trial) => trial.id),
    scenarios: [...new Set(peaks.map((trial) => trial.scenario))],
    figures: Object.fromEntries(
      labelsOf(peaks).map((label) => {
        const figures = peaks.flatMap((trial) => nativeOf(trial)?.[label] ?? []);
        return [
          label,
          { mean: mean(figures.map((f) => f.mean)), max: Math.max(...figures.map((f) => f.max)) },
        ];
      }),
    ),
  };
}

/** Step 6's native figures (see {@link peakNative}) as a table; null for other steps or without any. Pure. */
export function peakNativeTable(
  step: StepReport,
  byId: ReadonlyMap<string, TrialResult>,
): NativeTable | null {
  const peak = step.id === stepIds.peak ? peakNative(step.trials.map((id) => byId.get(id))) : undefined;
  if (peak === undefined) return null;
  return {
    caption: `Native pool figures at the peak test (${peak.scenarios.join(', ')}): mean over the measurement window, and the highest sample`,
    corner: 'figure',
    columns: ['mean', 'max'],
    rows: Object.entries(peak.figures).map(([label, { mean, max }]) => ({
      head: label,
      cells: [formatNative(mean), formatNative(max)],
    })),
    trialIds: peak.trialIds,
  };
}

/**
 * Step 4's native figures: one row per pool size measured, one column per label, each cell the mean over
 * that size's completed repetitions (`—` where none recorded the label). Null when no trial of the step
 * carries native figures. Pure.
 */
export function growNativeTable(
  pool: PoolSizeData,
  byId: ReadonlyMap<string, TrialResult>,
): NativeTable | null {
  const sizes = pool.sizes.map((size) => ({ n: size.n, trials: withNative(size.trialIds, byId) }));
  const trials = sizes.flatMap((size) => size.trials);
  if (trials.length === 0) return null;
  const labels = labelsOf(trials);
  return {
    caption:
      'Native pool figures by pool size: mean over the measurement window, averaged over the repetitions',
    corner: pool.knob,
    columns: labels,
    rows: sizes
      .filter((size) => size.trials.length > 0)
      .map((size) => ({
        head: String(size.n),
        cells: labels.map((label) => {
          const means = size.trials.flatMap((trial) => nativeOf(trial)?.[label]?.mean ?? []);
          return means.length === 0 ? NOT_AVAILABLE : formatNative(mean(means));
        }),
      })),
    trialIds: trials.map((trial) => trial.id),
  };
}

/** A trial's native figures in one cell, e.g. `cl_waiting 0.53 / 3, sv_active 4 / 4` (mean / max). */
export function nativeCell(trial: TrialResult): string {
  const native = nativeOf(trial);
  if (native === undefined) return NOT_AVAILABLE;
  return Object.entries(native)
    .map(([label, { mean, max }]) => `${label} ${formatNative(mean)} / ${formatNative(max)}`)
    .join(', ');
}
