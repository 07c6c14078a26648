// Types for scripts/build-assets.mjs, so TypeScript callers (the benchmark) share its esbuild options.
import type { BuildOptions } from 'esbuild';

/** The options every Lambda bundle is built with. */
export declare const LAMBDA_OPTIONS: BuildOptions;
export declare const TRIGGERS: readonly string[];
export declare function buildAssets(): Promise<void>;
