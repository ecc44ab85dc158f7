// Node 20 has no Symbol.dispose / Symbol.asyncDispose. Define them the way esbuild's (and so tsx's and
// vitest's) lowering of `using` / `await using` looks them up, so classes and `await using` agree.
// Every entry point (bin, harness/index.ts, the vitest setup) imports this module first.
const symbols = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
symbols.dispose ??= Symbol.for('Symbol.dispose');
symbols.asyncDispose ??= Symbol.for('Symbol.asyncDispose');

export {};
