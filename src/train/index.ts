// The training loop and its parts, for the faces (CLI, dashboard, library API).
export { train, TrainError, type StepEvent, type TrainCallbacks, type TrainOptions, type TrainResult } from './loop.js';
export { resolveConfig, resumeConfig, validateConfig, familyOptions, parseSet, readConfigFile, ConfigError, configSchema, type TrainConfig, type TrainConfigInput } from '../run/config.js';
export { loadCheckpoint, saveCheckpoint, type LoopState } from '../run/checkpoint.js';
export { diffAugment, AUGMENT_OPS, type AugmentOp, type AugmentOptions } from './augment.js';
export { ImagePool, type PoolOptions } from './pool.js';
export { EmaGenerator } from './ema.js';
export { readMetrics, type MetricsRecord } from '../run/metrics.js';
