import type { Arrival, RequestSpec } from './scenario.ts';

/** A seeded pseudo-random source in [0, 1): the same seed gives the same schedule. */
export type Random = () => number;

/** mulberry32: a tiny, well-distributed 32-bit PRNG, enough for arrival jitter and request mix. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A span of time with a constant arrival rate (requests per second). */
export interface Segment {
  readonly startMs: number;
  readonly endMs: number;
  readonly rate: number;
}

/** Constant-rate segments of a piecewise-constant shape (not `ramp`) over `durationMs`. */
export function segmentsOf(arrival: Arrival, durationMs: number): Segment[] {
  switch (arrival.kind) {
    case 'constant':
    case 'poisson':
      return [{ startMs: 0, endMs: durationMs, rate: arrival.rate }];
    case 'burst':
      return periodic(durationMs, arrival.periodMs, [
        { lengthMs: arrival.burstMs, rate: arrival.burstRate },
        { lengthMs: arrival.periodMs - arrival.burstMs, rate: arrival.baseRate },
      ]);
    case 'idle-gaps':
      return periodic(durationMs, arrival.activeMs + arrival.idleMs, [
        { lengthMs: arrival.activeMs, rate: arrival.rate },
        { lengthMs: arrival.idleMs, rate: 0 },
      ]);
    case 'ramp':
      throw new Error('ramp is not piecewise constant');
  }
}

function periodic(
  durationMs: number,
  periodMs: number,
  parts: readonly { lengthMs: number; rate: number }[],
): Segment[] {
  const segments: Segment[] = [];
  for (let start = 0; start < durationMs; start += periodMs) {
    let at = start;
    for (const part of parts) {
      const end = Math.min(at + part.lengthMs, durationMs);
      if (end > at) segments.push({ startMs: at, endMs: end, rate: part.rate });
      at = end;
    }
  }
  return segments;
}

/**
 * The intended send times (ms from the start of measurement) of an open-model scenario, in order.
 * Constant, burst and idle-gap shapes space arrivals evenly within each rate; `poisson` draws
 * exponential gaps; `ramp` inverts the cumulative count of a linearly rising rate.
 */
export function arrivalSchedule(arrival: Arrival, durationMs: number, random: Random): Float64Array {
  if (arrival.kind === 'ramp') return rampSchedule(arrival.from, arrival.to, durationMs);
  if (arrival.kind === 'poisson') return poissonSchedule(arrival.rate, durationMs, random);
  const times: number[] = [];
  // Credit carries fractional arrivals across segment borders so the total matches the integral;
  // it starts full, so the first arrival is at the start.
  let credit = 1;
  for (const segment of segmentsOf(arrival, durationMs)) {
    if (segment.rate <= 0) continue;
    const gapMs = 1000 / segment.rate;
    const first = segment.startMs + (1 - credit) * gapMs;
    let k = 0;
    for (; first + k * gapMs < segment.endMs; k++) times.push(first + k * gapMs);
    credit = 1 - (first + k * gapMs - segment.endMs) / gapMs;
  }
  return Float64Array.from(times);
}

function poissonSchedule(rate: number, durationMs: number, random: Random): Float64Array {
  const times: number[] = [];
  const meanGapMs = 1000 / rate;
  let at = -Math.log(1 - random()) * meanGapMs;
  while (at < durationMs) {
    times.push(at);
    at += -Math.log(1 - random()) * meanGapMs;
  }
  return Float64Array.from(times);
}

function rampSchedule(from: number, to: number, durationMs: number): Float64Array {
  // N(t) = from*t + (to-from)*t^2/(2D), t and D in seconds; arrival k (from 0) solves N(t) = k.
  const seconds = durationMs / 1000;
  const slope = (to - from) / seconds;
  const total = Math.floor(from * seconds + (slope * seconds * seconds) / 2);
  const times = new Float64Array(total);
  for (let k = 0; k < total; k++) {
    const t = slope === 0 ? k / from : (-from + Math.sqrt(from * from + 2 * slope * k)) / slope;
    times[k] = t * 1000;
  }
  return times;
}

/** The number of arrivals a shape offers over `durationMs` (for an open model, the offered load). */
export function offeredCount(arrival: Arrival, durationMs: number): number {
  if (arrival.kind === 'poisson') return (arrival.rate * durationMs) / 1000;
  if (arrival.kind === 'ramp') return ((arrival.from + arrival.to) / 2) * (durationMs / 1000);
  return segmentsOf(arrival, durationMs).reduce(
    (sum, segment) => sum + (segment.rate * (segment.endMs - segment.startMs)) / 1000,
    0,
  );
}

/** Picks requests from a mix in proportion to their weights. */
export function requestPicker(mix: readonly RequestSpec[], random: Random): () => RequestSpec {
  const first = mix[0];
  if (first === undefined) throw new Error('a scenario mix needs at least one request');
  const total = mix.reduce((sum, spec) => sum + spec.weight, 0);
  const cumulative = mix.map(
    (
      (sum) => (spec: RequestSpec) =>
        (sum += spec.weight / total)
    )(0),
  );
  return () => {
    const draw = random();
    for (let i = 0; i < mix.length; i++) {
      if (draw < (cumulative[i] ?? 1)) return mix[i] ?? first;
    }
    return mix[mix.length - 1] ?? first;
  };
}
