// Importing this module registers every metric.
import './agreement.js';
import './ssim.js';
import './tstr.js';
import './privacy.js';
import './fd.js';
import './kid.js';
import './prdc.js';
import './paired.js';
import './domain_tstr.js';
import './seg_tstr.js';

export { evaluate, headlines, type EvaluateOptions, type Report } from './evaluate.js';
export { getMetric, metricNames, registerMetric, type EvalContext, type Metric } from './registry.js';
export { trainClassifier, predict, embed, score, buildClassifier, CLASSIFIER_DEFAULTS, type Classifier, type ClassifierOptions, type Scores } from './classifier.js';
export { cacheSet, memorySet, subset, imagesOf, type ImageSet } from '../data/image_set.js';
export { featureSpaces, featuresOf, disposeInception, MIN_TIMED_SAMPLES, type FeatureOptions, type Features } from './features.js';
export { ssimPairs, meanSsimToReal, rankBySsim, selectTop, SSIM_PARAMS, type MeanSsimOptions } from './ssim.js';
export { pairedScores, type PairedSets, type PairedScores } from './paired.js';
export { domainTstr, twoDomains, type DomainSets, type DomainTstr } from './domain_tstr.js';
