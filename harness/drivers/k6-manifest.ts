// Pure: the k6-operator TestRun and the ConfigMap holding the generated script, for running a scenario
// on Kubernetes (`pooltune k6 manifest`). Field names follow k6-operator's CRD
// (config/crd/bases/k6.io_testruns.yaml, apiVersion k6.io/v1alpha1). No I/O.
import { stringify } from 'yaml';

/** What the manifest is built from. */
export interface K6ManifestInput {
  /** The TestRun's name; the ConfigMap is `<name>-script`. A DNS-1123 label (see {@link k6ManifestNameProblem}). */
  readonly name: string;
  readonly namespace?: string;
  /** The generated k6 script (plain JavaScript, as the local driver runs it). */
  readonly script: string;
  /** k6 runners; the operator gives each its `--execution-segment` of one sequence. */
  readonly parallelism: number;
  /** The runners' image, e.g. `grafana/k6:0.45.1`. */
  readonly image: string;
  /** One runner per node (the operator's podAntiAffinity rule). */
  readonly separate: boolean;
}

/** The key of the script in the ConfigMap, and the file name the runners read (`/test/<file>`). */
export const k6ManifestScriptFile = 'pooltune.js';

/** The largest ConfigMap Kubernetes stores (1 MiB, data included). */
const configMapLimitBytes = 1024 * 1024;

/** Longest TestRun name: the operator names jobs `<name>-initializer`, `<name>-starter`, `<name>-<i>`, and labels stop at 63. */
export const k6ManifestNameMaxLength = 50;

/**
 * `k6 run` arguments every runner gets, after the operator's own (`--quiet`, the segment flags) and
 * before the script: points as JSON lines on stdout, so they come back with the pod's log (`kubectl
 * logs`), the summary follows as one JSON line (the script writes it to stdout when no summary path is
 * set), and k6's own log lines stay on stderr. The operator splits this string on whitespace.
 */
export const k6RunnerArguments = '--out json=- --no-usage-report --no-color';

/** Why `name` cannot name a TestRun, or undefined when it can. */
export function k6ManifestNameProblem(name: string): string | undefined {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    return `"${name}" is not a Kubernetes name: lower-case letters, digits and "-", starting and ending with a letter or digit`;
  }
  if (name.length > k6ManifestNameMaxLength) {
    return `"${name}" is longer than ${k6ManifestNameMaxLength} characters (the operator appends "-initializer" to it)`;
  }
  return undefined;
}

/** A name derived from a scenario's: `pooltune-<scenario>`, made a valid Kubernetes name. */
export function defaultK6ManifestName(scenario: string): string {
  const slug = scenario
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `pooltune-${slug}`.slice(0, k6ManifestNameMaxLength).replace(/-+$/, '');
}

/** The two objects, as plain data: the ConfigMap first (the TestRun refers to it). */
export function k6OperatorObjects(input: K6ManifestInput): [configMap: object, testRun: object] {
  const problem = k6ManifestNameProblem(input.name);
  if (problem !== undefined) throw new RangeError(problem);
  const size = new TextEncoder().encode(input.script).length;
  if (size > configMapLimitBytes) {
    throw new RangeError(`the script is ${size} bytes; a ConfigMap holds at most ${configMapLimitBytes}`);
  }
  const metadata = (name: string) => ({
    name,
    ...(input.namespace === undefined ? {} : { namespace: input.namespace }),
    labels: { 'app.kubernetes.io/managed-by': 'pooltune' },
  });
  const configMapName = `${input.name}-script`;
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(configMapName),
    data: { [k6ManifestScriptFile]: input.script },
  };
  const testRun = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: metadata(input.name),
    spec: {
      parallelism: input.parallelism,
      script: { configMap: { name: configMapName, file: k6ManifestScriptFile } },
      arguments: k6RunnerArguments,
      separate: input.separate,
      runner: { image: input.image },
      // The operator deletes the runners once the test finishes: collect their logs while it runs.
      cleanup: 'post',
    },
  };
  return [configMap, testRun];
}

/** The objects as one multi-document YAML text (`kubectl apply -f` takes it). */
export function k6OperatorManifest(input: K6ManifestInput): string {
  return k6OperatorObjects(input)
    .map((object) => stringify(object, { lineWidth: 0 }))
    .map((text) => `---\n${text}`)
    .join('');
}
