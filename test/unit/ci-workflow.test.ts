import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The example GitHub Actions workflow docs/ci.md points to: its shape, and its gate script run for real.
const file = fileURLToPath(new URL('../../.github/workflows/pooltune.yml', import.meta.url));

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
}

const workflow = parse(readFileSync(file, 'utf8')) as {
  on: { schedule?: { cron: string }[]; workflow_dispatch?: unknown };
  jobs: Record<string, { steps: Step[] }>;
};
const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
const stepNamed = (name: string) => steps.find((step) => step.name === name);

describe('the example GitHub Actions workflow', () => {
  it('runs nightly on a cron and on a manual trigger', () => {
    expect(workflow.on.schedule?.[0]?.cron).toMatch(/^\S+ \S+ \* \* \*$/);
    expect(workflow.on.workflow_dispatch).toBeDefined();
  });

  it('uploads the run directory even when the tune fails, and writes summary.md to the job summary', () => {
    const upload = steps.find((step) => step.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with?.path).toBe('reports/out/');
    expect(upload?.if).toBe('always()');
    expect(stepNamed('Job summary')?.run).toMatch(/summary\.md" >> "\$GITHUB_STEP_SUMMARY"/);
    expect(stepNamed('Tune')?.run).toContain('--baseline');
  });

  it.each([
    [0, 0],
    [3, 3],
    [4, 4],
    [2, 2],
    [130, 130],
  ])('the gate step turns pooltune exit %i into job exit %i', (code, expected) => {
    const script = stepNamed('Gate on the SLO (3) and regressions (4)')?.run ?? '';
    expect(script).not.toBe('');
    const result = spawnSync(
      'bash',
      ['-e', '-c', script.replace(/\$\{\{ steps\.tune\.outputs\.exit_code \}\}/, String(code))],
      { encoding: 'utf8' },
    );
    expect(result.status).toBe(expected);
    if (code === 3) expect(result.stdout).toContain('SLO thresholds failed');
    if (code === 4) expect(result.stdout).toContain('regression against the baseline');
  });
});
