import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { defaultRunnerImage } from '../../harness/cli/k6.ts';
import { main } from '../../harness/cli/main.ts';
import {
  defaultK6ManifestName,
  k6ManifestNameProblem,
  k6ManifestScriptFile,
  k6OperatorManifest,
  k6OperatorObjects,
  k6RunnerArguments,
} from '../../harness/drivers/k6-manifest.ts';
import { ExitCode } from '../../harness/errors.ts';
import { fakeHost } from '../helpers/fake-host.ts';

const schema = (name: string): object =>
  JSON.parse(readFileSync(new URL(`../fixtures/k6-operator/${name}`, import.meta.url), 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, strict: true });
const validTestRun = ajv.compile(schema('testrun.schema.json'));
const validConfigMap = ajv.compile(schema('configmap.schema.json'));

/** The emitted YAML read back as documents; any YAML error fails the test. */
function documents(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as Record<string, unknown>;
  });
}

/** The script a ConfigMap document holds. */
function scriptOf(configMap: Record<string, unknown> | undefined): string | undefined {
  return (configMap?.data as Record<string, string> | undefined)?.[k6ManifestScriptFile];
}

const input = {
  name: 'pooltune-steady',
  script: '// a script\nexport default function () {}\n',
  parallelism: 4,
  image: 'grafana/k6:0.45.1',
  separate: true,
};

describe('k6OperatorManifest', () => {
  it('emits a ConfigMap and a TestRun that pass the schemas written from the CRD', () => {
    const [configMap, testRun] = documents(k6OperatorManifest({ ...input, namespace: 'load' }));
    expect(validConfigMap(configMap), JSON.stringify(validConfigMap.errors)).toBe(true);
    expect(validTestRun(testRun), JSON.stringify(validTestRun.errors)).toBe(true);
    expect(testRun).toMatchObject({
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      metadata: { name: 'pooltune-steady', namespace: 'load' },
      spec: {
        parallelism: 4,
        script: { configMap: { name: 'pooltune-steady-script', file: k6ManifestScriptFile } },
        arguments: k6RunnerArguments,
        separate: true,
        runner: { image: 'grafana/k6:0.45.1' },
        cleanup: 'post',
      },
    });
    // The TestRun points at the ConfigMap's key, and the script survives YAML byte for byte.
    expect(configMap?.metadata).toMatchObject({ name: 'pooltune-steady-script', namespace: 'load' });
    expect(scriptOf(configMap)).toBe(input.script);
  });

  it('the schemas catch what the API server would silently drop or refuse', () => {
    const [configMap, testRun] = k6OperatorObjects(input) as [
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    const spec = testRun.spec as Record<string, unknown>;
    const broken = [
      { ...testRun, spec: { ...spec, cleanUp: 'post' } },
      { ...testRun, spec: { ...spec, cleanup: 'always' } },
      { ...testRun, spec: { ...spec, parallelism: '4' } },
      { ...testRun, spec: { ...spec, script: { configMap: { file: 'x.js' } } } },
      { ...testRun, spec: { ...spec, runner: { image: 'k6', imagePulPolicy: 'Never' } } },
      { ...testRun, apiVersion: 'k6.io/v1' },
      { ...testRun, metadata: { name: 'Pooltune_Steady' } },
    ];
    for (const object of broken) expect(validTestRun(object), JSON.stringify(object)).toBe(false);
    expect(validConfigMap({ ...configMap, data: { 'dir/script.js': 'x' } })).toBe(false);
    expect(validConfigMap({ ...configMap, data: { 'script.js': 1 } })).toBe(false);
  });

  it('names: defaults are valid Kubernetes names; bad ones are refused with the reason', () => {
    expect(defaultK6ManifestName('idle-gaps')).toBe('pooltune-idle-gaps');
    expect(defaultK6ManifestName('My Scenario!')).toBe('pooltune-my-scenario');
    expect(k6ManifestNameProblem(defaultK6ManifestName('x'.repeat(80)))).toBeUndefined();
    expect(k6ManifestNameProblem('Load_Test')).toMatch(/not a Kubernetes name/);
    expect(k6ManifestNameProblem('a'.repeat(51))).toMatch(/longer than 50/);
    expect(() => k6OperatorObjects({ ...input, name: '-x' })).toThrow(RangeError);
    expect(() => k6OperatorObjects({ ...input, script: 'x'.repeat(1024 * 1024 + 1) })).toThrow(/ConfigMap/);
  });
});

describe('pooltune k6 manifest (in-process)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-k6-manifest-'));
    await writeFile(
      path.join(dir, 'remote.json'),
      JSON.stringify({
        allowRemote: true,
        allowHosts: ['api.shop.svc'],
        k6: { instances: 3 },
        scenario: 'steady',
      }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const cli = async (argv: string[]) => {
    const host = fakeHost(argv, { cwd: dir });
    const code = await main(host);
    return { code, out: host.out(), err: host.err() };
  };

  it("k6 manifest --help shows the subcommand's own options; bare k6 lists its subcommands", async () => {
    const help = await cli(['k6', 'manifest', '--help']);
    expect(help.code).toBe(ExitCode.ok);
    for (const option of ['--url', '--parallelism', '--separate', '--image'])
      expect(help.out).toContain(option);
    const k6 = await cli(['k6', '--help']);
    expect(k6.out).toContain('manifest');
    expect(k6.out).toContain('collect');
    expect(k6.out).not.toContain('--parallelism');
  });

  /** A manifest for a host the config allows. */
  const remote = ['k6', 'manifest', '--config', 'remote.json', '--url', 'http://api.shop.svc:8080'];

  it("prints valid YAML for the config's scenario, k6.instances runners and the runners' URL", async () => {
    const { code, out, err } = await cli(remote);
    expect(err).toBe('');
    expect(code).toBe(ExitCode.ok);
    const [configMap, testRun] = documents(out);
    expect(validConfigMap(configMap), JSON.stringify(validConfigMap.errors)).toBe(true);
    expect(validTestRun(testRun), JSON.stringify(validTestRun.errors)).toBe(true);
    expect(testRun).toMatchObject({
      metadata: { name: 'pooltune-steady' },
      spec: { parallelism: 3, separate: false, runner: { image: defaultRunnerImage } },
    });
    const script = scriptOf(configMap) ?? '';
    expect(script).toMatch(/^\/\/ Generated by pooltune from scenario "steady"/);
    expect(script).toContain('"url": "http://api.shop.svc:8080"');
    // The bundle names no local folder: paths are relative to the template.
    expect(script).not.toContain(dir);
    expect(script).not.toContain(process.cwd());

    const flags = await cli([
      ...remote,
      '-p',
      '8',
      '--separate',
      '--name',
      'nightly',
      '-n',
      'load',
      '--image',
      'grafana/k6:0.54.0',
    ]);
    expect(flags.code).toBe(ExitCode.ok);
    expect(documents(flags.out)[1]).toMatchObject({
      metadata: { name: 'nightly', namespace: 'load' },
      spec: {
        parallelism: 8,
        separate: true,
        runner: { image: 'grafana/k6:0.54.0' },
        script: { configMap: { name: 'nightly-script' } },
      },
    });
  });

  it.each([
    [['--url', 'http://api.shop.svc:8080'], /not a loopback address/, /allowHosts/],
    [['--config', 'remote.json'], /needs --url/, /--url http/],
    [
      ['--config', 'remote.json', '--url', 'http://api.shop.svc:8080', '-p', '0'],
      /--parallelism 0: expected a whole number/,
      /execution segment/,
    ],
    [
      ['--config', 'remote.json', '--url', 'http://api.shop.svc:8080', '--name', 'Big_Name'],
      /--name: "Big_Name" is not a Kubernetes name/,
      /--name pooltune/,
    ],
    [
      ['--config', 'remote.json', '--url', 'http://api.shop.svc:8080', '--scenario', 'stedy'],
      /did you mean "steady"/,
      /pooltune targets/,
    ],
  ])('%j is a usage error (exit 2) that names the flag and gives a hint', async (extra, message, hint) => {
    const { code, out, err } = await cli(['k6', 'manifest', ...extra]);
    expect(code).toBe(ExitCode.usage);
    expect(out).toBe('');
    expect(err).toMatch(message);
    expect(err.split('\n').find((line) => line.startsWith('hint: '))).toMatch(hint);
    expect(err).not.toMatch(/\n\s+at /);
  });
});
