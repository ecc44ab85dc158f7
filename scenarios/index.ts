import { burst } from './burst.ts';
import { idleGaps } from './idle-gaps.ts';
import { ramp } from './ramp.ts';
import { saturate } from './saturate.ts';
import type { Scenario } from './scenario.ts';
import { steady } from './steady.ts';

/** The bundled scenarios by name. */
export const scenarios: Readonly<Record<string, Scenario>> = {
  steady,
  saturate,
  burst,
  ramp,
  'idle-gaps': idleGaps,
};

export type {
  Arrival,
  ClosedScenario,
  ClosedStage,
  OpenScenario,
  RequestSpec,
  Scenario,
} from './scenario.ts';
export { measuredMs, scaleScenario } from './scenario.ts';
