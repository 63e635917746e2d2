/**
 * Triage's bounds and defaults, alone in a file that imports nothing: the tool's input schema
 * and the triage_incident prompt need them when a server starts, and importing them from here
 * leaves the rest of triage (its zod schemas, the signature miner) unevaluated until the first
 * triage_confidence call (issue 12, start-up: 18-44 ms of every stdio start, startup3 notes).
 */

/** Seconds before T that belong to the incident, by default. */
export const DEFAULT_WINDOW_S = 300;
/** Seconds before the window read as the normal error rate, by default. */
export const DEFAULT_BASELINE_S = 3600;
/** The longest alert text a second opinion or the prompt carries. */
export const MAX_ALERT_CHARS = 2000;
