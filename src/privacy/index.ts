// The privacy part's public API: RDP accounting for DP-SGD (the sampled Gaussian mechanism) and
// DP-SGD's clipped, noised gradient.
export {
  CONVERSIONS, DEFAULT_ORDERS, computeRdp, epsilonFor, noiseMultiplierFor, privacySpent, rdpAtOrder,
  type PrivacySpent, type RdpConversion, type SgmRun,
} from './rdp.js';
export {
  RdpAccountant, stepsWithin,
  type AccountantOptions, type HistoryEntry, type PrivacyBudget, type RdpAccountantJSON,
} from './accountant.js';
export { erf, erfc, logErfc } from './erfc.js';
export { privateBatchGradients, privateGradients, type DpSgdOptions, type PrivateGradients } from './dpsgd.js';
export { clippedGradients, supportsBatchedClipping, type ClippedGradients } from './per_example.js';
