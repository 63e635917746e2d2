/**
 * Triage: deterministic, explainable incident decisions from the log index.
 *
 * Owns error signatures (Drain-style template mining), the runbook catalog (--runbooks),
 * evidence gathered through the Store interface, the calibrated confidence and decision
 * (auto_execute / escalate / insufficient_data), the plain-word reasons, and the second
 * opinion a client's model may give (which can only make a decision more careful).
 * MCP wiring lives in src/mcp/tools/triage-confidence.ts; this module knows nothing of MCP.
 */
export { maskBody, signatureId, SignatureMiner, type Signature, type SignatureOptions } from './signatures.js';
export {
  DEFAULT_MIN_CONFIDENCE,
  DEFAULT_RUNBOOK_TAGS,
  loadRunbookCatalog,
  MATCH_BODY_CHARS,
  parseRunbookCatalog,
  RunbookCatalog,
  RunbookError,
  runbookJson,
  runbookMatches,
  type ParseCatalogOptions,
  type Runbook,
} from './runbooks.js';
export {
  burstRatio,
  burstSignificance,
  DEFAULT_BASELINE_S,
  DEFAULT_WINDOW_S,
  ERROR_TAGS,
  gatherEvidence,
  RUNBOOK_MIN_FIT,
  WINDOW_AFTER_S,
  type Evidence,
  type EvidenceOptions,
  type NearestError,
  type RunbookFit,
  type SignatureEvidence,
} from './evidence.js';
export {
  applyOpinion,
  decide,
  DEFAULT_PARAMS,
  logistic,
  scoreFeatures,
  type Block,
  type Decision,
  type DecisionResult,
  type Factors,
  type Logistic,
  type Opinion,
  type RunbookPolicy,
  type Score,
  type TriageFeatures,
  type TriageParams,
} from './confidence.js';
export { explain, formatOffset } from './reasons.js';
export {
  buildSecondOpinionRequest,
  MAX_ALERT_CHARS,
  parseSecondOpinion,
  SECOND_OPINION_SYSTEM_PROMPT,
  type ParsedOpinion,
} from './second-opinion.js';
export { featuresFromEvidence, triage, type TriageOptions, type TriageResult } from './triage.js';
