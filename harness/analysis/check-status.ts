import { z } from 'zod';

/** pass / warn / fail / not-checked: the statuses of checklist items, probes, SLO checks and the overall verdict. */
export const checkStatus = z.enum(['pass', 'warn', 'fail', 'not-checked']);

/** One of {@link checkStatus}. */
export type CheckStatus = z.infer<typeof checkStatus>;
