/**
 * The named mutations `npm run test:mutants` applies (issue 18): each one breaks a rule the
 * contract states (tie order in every search path, the direction filter, the auto_execute
 * threshold, the retention horizon, ...) by replacing one exact piece of source text. The
 * suite must fail for every one. A mutation whose text is no longer found fails the run too,
 * so this list is kept in step with the code it mutates.
 */

export interface Mutation {
  name: string;
  /** The rule the mutation breaks, as the contract or README states it. */
  rule: string;
  /** File under the repository root. */
  file: string;
  /** Exact text to replace, and which occurrence of it (1-based, default 1). */
  from: string;
  to: string;
  occurrence?: number;
  /** Test files (or folders) to run: the ones that should catch it, kept small for speed. */
  tests: string[];
  /** The tests run the built CLI (dist/): rebuild after mutating. */
  dist?: boolean;
}

const SEARCH_TESTS = ['test/property/nearest.property.test.ts', 'test/property/time-model.property.test.ts', 'test/unit/late-store.test.ts'];
const PERSIST_TESTS = ['test/unit/persist.test.ts'];
const TRIAGE_TESTS = ['test/unit/confidence.test.ts', 'test/unit/triage-evidence.test.ts'];

export const MUTATIONS: readonly Mutation[] = [
  {
    name: 'tie-merge-distance',
    rule: 'nearest, equal |distance|: the earlier entry first (general k-way merge)',
    file: 'src/index/nearest.ts',
    from: 'if (a.ts !== b.ts) return a.ts < b.ts;',
    to: 'if (a.ts !== b.ts) return a.ts > b.ts;',
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-merge-source',
    rule: 'equal timestamps: source order (general k-way merge)',
    file: 'src/index/nearest.ts',
    from: 'if (a.sourceRank !== b.sourceRank) return a.sourceRank < b.sourceRank;',
    to: 'if (a.sourceRank !== b.sourceRank) return a.sourceRank > b.sourceRank;',
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-merge-line',
    rule: 'equal timestamps in one source: line order (general k-way merge)',
    file: 'src/index/nearest.ts',
    from: '  return a.line < b.line;\n}',
    to: '  return a.line > b.line;\n}',
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-one-consider-distance',
    rule: 'nearest, equal |distance|: the earlier entry first (count=1, several sources or late entries)',
    file: 'src/index/nearest-one.ts',
    from: "else if (ts !== bestTs) better = direction === 'before' ? ts > bestTs : ts < bestTs;",
    to: "else if (ts !== bestTs) better = direction === 'after' ? ts < bestTs : ts > bestTs;",
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-one-consider-source',
    rule: 'equal timestamps: source order (count=1)',
    file: 'src/index/nearest-one.ts',
    from: 'else if (source.rank !== bestRank) better = source.rank < bestRank;',
    to: 'else if (source.rank !== bestRank) better = source.rank > bestRank;',
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-one-consider-line',
    rule: 'equal timestamps in one source: line order (count=1)',
    file: 'src/index/nearest-one.ts',
    from: 'else better = seg.lineAt(i) < bestSeg.lineAt(bestI);',
    to: 'else better = seg.lineAt(i) > bestSeg.lineAt(bestI);',
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-one-run-start',
    rule: 'equal timestamps: the earliest line first (count=1 backward walk to the start of the run)',
    file: 'src/index/nearest-one.ts',
    from: 'while (stepBack(seq, tag) && seq.segment(S).ts[I] === ts) {',
    to: 'while (false && stepBack(seq, tag) && seq.segment(S).ts[I] === ts) {',
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-fast-main-distance',
    rule: 'nearest, equal |distance|: the earlier entry first (count=1 fast path, no tag)',
    file: 'src/index/nearest-main.ts',
    from: 'if (back !== null && (fwd === null || t - back.ts[bi]! <= fwd.ts[fi]! - t)) {',
    to: 'if (back !== null && (fwd === null || t - back.ts[bi]! < fwd.ts[fi]! - t)) {',
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-fast-main-run-start',
    rule: 'equal timestamps: the earliest line first (count=1 fast path, no tag)',
    file: 'src/index/nearest-main.ts',
    from: 'if (k > 0 && seg.ts[k - 1] === ts) k = k >= 16',
    to: 'if (false && k > 0 && seg.ts[k - 1] === ts) k = k >= 16',
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-fast-main-chunk-start',
    rule: 'equal timestamps across a chunk start: the earliest line first (count=1 fast path, no tag)',
    file: 'src/index/nearest-main.ts',
    from: 'if (prev.ts[prev.count - 1] === ts) return undefined;',
    to: 'if (prev.ts[prev.count - 1] === ts && false) return undefined;',
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-fast-tagged-distance',
    rule: 'nearest, equal |distance|: the earlier entry first (count=1 fast path, one tag)',
    file: 'src/index/nearest-main.ts',
    from: 'if (fwd === null || t - ts <= fwd.ts[fi]! - t) {',
    to: 'if (fwd === null || t - ts < fwd.ts[fi]! - t) {',
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-fast-tagged-run-start',
    rule: 'equal timestamps: the earliest line first (count=1 fast path, one tag)',
    file: 'src/index/nearest-main.ts',
    from: 'if (bi > 0 && back.ts[bi - 1] === ts) {',
    to: 'if (false && bi > 0 && back.ts[bi - 1] === ts) {',
    tests: SEARCH_TESTS,
  },
  {
    name: 'tie-fast-tagged-chunk-start',
    rule: 'equal timestamps across a chunk start: the earliest line first (count=1 fast path, one tag)',
    file: 'src/index/nearest-main.ts',
    from: 'if (bj === 0 && back.ts[0] === ts) return undefined;',
    to: 'if (bj === 0 && back.ts[0] === ts && false) return undefined;',
    tests: SEARCH_TESTS,
  },
  {
    name: 'direction-merge-before',
    rule: 'before = entries at or before the query time (general merge)',
    file: 'src/index/nearest.ts',
    from: "cursors.push(new Cursor(seq, tag, false, true, source.rank).seek(t, direction === 'before'));",
    to: 'cursors.push(new Cursor(seq, tag, false, true, source.rank).seek(t, false));',
    tests: SEARCH_TESTS,
  },
  {
    name: 'direction-merge-after',
    rule: 'after = entries at or after the query time, never before it (general merge)',
    file: 'src/index/nearest.ts',
    from: "        if (direction !== 'after') {\n          cursors.push(",
    to: '        if (true) {\n          cursors.push(',
    tests: SEARCH_TESTS,
  },
  {
    name: 'direction-one-before',
    rule: 'before = entries at or before the query time (count=1)',
    file: 'src/index/nearest-one.ts',
    from: "const bound = boundIn(seq, t, direction === 'before');",
    to: 'const bound = boundIn(seq, t, false);',
    tests: SEARCH_TESTS,
  },
  {
    name: 'max-distance',
    rule: 'max_distance_ms: nothing farther than the limit',
    file: 'src/index/nearest.ts',
    from: 'if (Math.abs(cursor.ts - t) > spec.maxDistance) break;',
    to: 'if (Math.abs(cursor.ts - t) > spec.maxDistance + 1) break;',
    tests: SEARCH_TESTS,
  },
  {
    name: 'persist-late-store',
    rule: 'a checkpoint restores the late store (entries that arrived out of order)',
    file: 'src/index/persist.ts',
    from: '    if (src.late > 0) {',
    to: '    if (src.late > 1e12) {',
    tests: PERSIST_TESTS,
  },
  {
    name: 'persist-time-model',
    rule: "a checkpoint restores a sealed chunk's time model as written",
    file: 'src/index/persist.ts',
    from: 'min: model.min, scale: model.scale } };',
    to: 'min: model.min, scale: model.scale * 2 } };',
    tests: PERSIST_TESTS,
  },
  {
    name: 'persist-keyed-lists',
    // A missing keyed list only costs speed (the plain tag list answers); a wrong one is a bug.
    rule: "a checkpoint restores each sealed chunk's keyed tag lists, each for its own tag",
    file: 'src/index/persist.ts',
    from: 'for (const tag of meta.keyed) keyed[tag] = read(`${s}.${k}.keyed${tag}`, Uint32Array);',
    to: 'for (const tag of meta.keyed) keyed[tag] = read(`${s}.${k}.keyed${meta.keyed[0]}`, Uint32Array);',
    tests: PERSIST_TESTS,
  },
  {
    name: 'persist-tag-lists',
    rule: "a checkpoint restores every tag list of a sealed chunk",
    file: 'src/index/persist.ts',
    from: '        for (const tag of meta.tags) tags[tag] = read(',
    to: '        for (const tag of meta.tags.slice(1)) tags[tag] = read(',
    tests: PERSIST_TESTS,
  },
  {
    name: 'checkpoint-period',
    rule: 'a checkpoint every 60 s when anything changed',
    file: 'src/store/checkpointer.ts',
    from: '(n > 0 && since >= this.policy.everyMs)',
    to: '(n > 0 && since >= this.policy.everyMs * 2)',
    tests: ['test/unit/checkpoints.test.ts'],
  },
  {
    name: 'utf8-cut',
    rule: 'bodies are cut on a UTF-8 character boundary',
    file: 'src/text/untrusted.ts',
    from: '  while (end > 0 && end > maxBytes - 4 && (bytes[end]! & 0xc0) === 0x80) end--;',
    to: '  while (false && end > 0 && end > maxBytes - 4 && (bytes[end]! & 0xc0) === 0x80) end--;',
    tests: ['test/unit/untrusted-text.test.ts'],
  },
  {
    name: 'budget-order',
    rule: 'find_nearest_log shrinks bodies, then context, then count',
    file: 'src/mcp/tools/find-nearest-log.ts',
    from: '    } else if (context > 0) {',
    to: '    } else if (context > 0 && count === 1) {',
    tests: ['test/unit/response-budget.test.ts'],
  },
  {
    name: 'auto-execute-min-confidence',
    rule: 'auto_execute only when confidence >= the runbook min_confidence',
    file: 'src/triage/confidence.ts',
    from: 'if (score.confidence < runbook.minConfidence) blocks.push',
    to: 'if (score.confidence < runbook.minConfidence - 0.05) blocks.push',
    tests: TRIAGE_TESTS,
  },
  {
    name: 'auto-execute-floor',
    rule: 'no auto_execute below the floor, whatever min_confidence says',
    file: 'src/triage/confidence.ts',
    from: 'else if (score.confidence < params.autoExecuteFloor) blocks.push',
    to: 'else if (score.confidence < params.autoExecuteFloor - 0.2) blocks.push',
    tests: TRIAGE_TESTS,
  },
  {
    name: 'auto-execute-manual-runbook',
    rule: 'auto_execute only with a runbook marked auto_execute: true',
    file: 'src/triage/confidence.ts',
    from: "if (!runbook.autoExecute) blocks.push('manual_runbook');",
    to: "if (!runbook.autoExecute && runbook.minConfidence > 0.9) blocks.push('manual_runbook');",
    tests: TRIAGE_TESTS,
  },
  {
    name: 'auto-execute-ambiguous',
    rule: 'auto_execute only when exactly one runbook matches the dominant signature',
    file: 'src/triage/confidence.ts',
    from: "else if (f.runbookCandidates > 1) blocks.push('ambiguous_runbook');",
    to: "else if (f.runbookCandidates > 2) blocks.push('ambiguous_runbook');",
    tests: TRIAGE_TESTS,
  },
  {
    name: 'llm-promotes',
    rule: "the model's opinion never raises a decision to auto_execute",
    file: 'src/triage/confidence.ts',
    from: '  const confidence = Math.min(result.confidence, Math.max(0, Math.min(1, opinion.score)));',
    to: '  const confidence = Math.max(result.confidence, Math.max(0, Math.min(1, opinion.score)));',
    tests: TRIAGE_TESTS,
  },
  {
    name: 'retention-age',
    rule: '--retention deletes segments whose newest entry is older than the horizon, no others',
    file: 'src/store/retention.ts',
    from: 's.maxTs / 1000 < nowMs - policy.maxAgeMs',
    to: 's.minTs! / 1000 < nowMs - policy.maxAgeMs',
    tests: ['test/unit/retention.test.ts'],
  },
  {
    name: 'retention-horizon-status',
    rule: 'a query before the retention horizon answers before_retention',
    file: 'src/store/embedded-store.ts',
    from: "else if (this.retentionHorizon !== null && q.t < this.retentionHorizon) status = 'before_retention';",
    to: "else if (this.retentionHorizon !== null && q.t < this.retentionHorizon - 1e9) status = 'before_retention';",
    tests: ['test/unit/retention.test.ts'],
  },
  {
    name: 'retention-at-start',
    rule: 'entries retention dropped stay dropped after a restart (issue 9)',
    file: 'src/store/durable.ts',
    from: '      await applyRetention(wal, store, retention, logger, Date.now(), options.keepFrom?.() ?? Infinity);\n    } catch',
    to: '      void applyRetention;\n    } catch',
    tests: ['test/unit/retention.test.ts'],
  },
  {
    name: 'retention-at-start-keep-from',
    rule: 'retention at start-up keeps what an ingest agent has not had acknowledged',
    file: 'src/store/durable.ts',
    from: '      await applyRetention(wal, store, retention, logger, Date.now(), options.keepFrom?.() ?? Infinity);\n    } catch',
    to: '      await applyRetention(wal, store, retention, logger, Date.now(), Infinity);\n    } catch',
    tests: ['test/unit/retention.test.ts'],
  },
  {
    name: 'format-per-file',
    rule: 'each file of a source is read with its own format (a rotated file beside a new one of another format; issues 9 and 10)',
    file: 'src/ingest/source-follower.ts',
    from: 'format: new FormatSlot(o.format, (verdict) => this.judged(t, verdict)),',
    to: 'format: ((o as { slot?: FormatSlot }).slot ??= new FormatSlot(o.format, (verdict) => this.judged(t, verdict))),',
    tests: ['test/integration/formats-serve.test.ts'],
    dist: true,
  },
  {
    name: 'resume-last-file-only',
    rule: 'a position per file a source has been through: rotations while serve is down lose and repeat nothing (issue 9 item 3)',
    file: 'src/ingest/rotation.ts',
    from: '    const files = resume?.files ?? [];',
    to: '    const files = (resume?.files ?? []).slice(-1);',
    tests: ['test/integration/rotation-outage.test.ts'],
    dist: true,
  },
  {
    name: 'rotation-drain-wait',
    rule: 'after a rename the new file is read at once, beside the old one still being written (issue 9 item 4)',
    file: 'src/ingest/source-follower.ts',
    from: '    for (const t of this.set.open()) {\n      if (!this.running) break;',
    to: '    for (const t of this.set.open().filter((x, _i, all) => x.rotatedAt !== null || all.every((y) => y.rotatedAt === null))) {\n      if (!this.running) break;',
    tests: ['test/integration/rotation-live.test.ts'],
    dist: true,
  },
  {
    name: 'healthz-wal-failed',
    rule: 'a failed WAL fsync: /healthz answers 503 with the reason (issue 9 item 7)',
    file: 'src/mcp/transports/health.ts',
    from: "    if (this.phase !== 'stopping' && s.wal.error != null) {",
    to: "    if (this.phase !== 'stopping' && s.wal.error != null && s.uptimeS < 0) {",
    tests: ['test/integration/wal-fsync-failure.test.ts'],
    dist: true,
  },
];
