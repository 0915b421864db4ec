// The synthset library: the same core the CLI and dashboard use.
export { initEngine, loadNative, nativeStatus, batchNormTrain, FusedAdamOptimizer } from './engine/index.js';
export type { BackendName, EngineInfo, EngineOptions } from './engine/index.js';
export { runBench } from './engine/bench/run.js';
export type { BenchOptions, BenchReport } from './engine/bench/run.js';
