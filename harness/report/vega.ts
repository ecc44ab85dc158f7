import type { Loader, ViewOptions } from 'vega';
import { parse, View, Warn } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { compile } from 'vega-lite';

/** An SVG rendered from a Vega-Lite spec, with what vega warned about (empty when all is well). */
export interface RenderedSvg {
  /** Produced by vega from the spec's inline data; vega escapes the text it writes. */
  readonly svg: string;
  readonly warnings: readonly string[];
}

/**
 * Renders a Vega-Lite spec to an SVG string in Node (no browser, no JavaScript in the page). Nothing is
 * loaded: the data must be inline, text is measured by estimate (no canvas, no fonts) and the loader
 * refuses every URL.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<RenderedSvg> {
  const warnings: string[] = [];
  const logger = collectingLogger(warnings);
  const { spec: vegaSpec } = compile(spec, { logger });
  const chart = new View(parse(vegaSpec), { renderer: 'none', loader: refusingLoader, logger });
  try {
    return { svg: await chart.toSVG(), warnings };
  } finally {
    chart.finalize();
  }
}

type VegaLogger = NonNullable<ViewOptions['logger']>;

/** A vega/Vega-Lite logger that keeps warnings and errors instead of printing them. */
function collectingLogger(into: string[]): VegaLogger {
  let level = Warn;
  const keep = (kind: string, args: readonly unknown[]) => {
    into.push(`${kind}: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`);
  };
  const logger: VegaLogger = {
    level(value?: number) {
      if (value === undefined) return level;
      level = value;
      return logger;
    },
    error(...args: readonly unknown[]) {
      keep('error', args);
      return logger;
    },
    warn(...args: readonly unknown[]) {
      if (level >= Warn) keep('warning', args);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  } as VegaLogger;
  return logger;
}

const refuse = (what: string) =>
  Promise.reject(new Error(`pooltune charts load nothing; refused to load ${what}`));

/** A loader that refuses every load: the specs carry their data inline, so any load is a bug. */
const refusingLoader: Loader = {
  load: (uri) => refuse(uri),
  sanitize: (uri) => refuse(uri),
  http: (uri) => refuse(uri),
  file: (filename) => refuse(filename),
};
