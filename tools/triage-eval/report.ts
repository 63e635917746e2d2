/** Plain-text tables for the eval report (stdout: the evaluator is not an MCP server). */
import { DEFAULT_TARGETS, type EvalReport, type EvalTargets } from './index.js';
import { DECISIONS } from './metrics.js';
import type { ScenarioResult } from './run.js';

function table(title: string, header: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  // Numbers (and dashes standing for them) right-aligned, text left-aligned.
  const numeric = header.map((_, i) => cells.length > 0 && cells.every((r) => /^[-+]?[\d.,/%() ]+$|^-$/.test(r[i] ?? '')));
  const line = (r: string[]): string => '| ' + r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ') + ' |';
  return [`\n### ${title}`, line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.map(line)].join('\n');
}

const f3 = (x: number | null): string => (x === null ? '-' : x.toFixed(3));
const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);

export function renderReport(report: EvalReport, given: Partial<EvalTargets> = {}): string {
  const thresholds: EvalTargets = { ...DEFAULT_TARGETS, ...given };
  const m = report.metrics;
  const families = report.options.families;
  const out: string[] = [
    `## Triage eval: ${families === null ? `${report.options.scenarios} scenarios` : `the ${m.total} ${families.join(', ')} scenarios among the first ${report.options.scenarios}`}, seed ${report.options.seed}`,
  ];

  out.push(
    table(
      'Scenario families (right action, what triage decided)',
      ['family', 'weight', 'right action', 'n', 'auto_execute', 'escalate', 'insufficient_data', 'correct', 'wrong auto', 'mean conf', 'Brier'],
      m.byFamily.map((f) => [
        f.family, report.mix.find((x) => x.family === f.family)?.weight ?? 0, f.expected, f.n,
        f.decisions.auto_execute, f.decisions.escalate, f.decisions.insufficient_data, f.correct, f.wrongAuto, f3(f.meanConfidence), f3(f.brier),
      ]),
    ),
  );

  out.push(
    table(
      'Confusion matrix (rows: right action, columns: decision)',
      ['right \\ decided', ...DECISIONS, 'total'],
      DECISIONS.map((e) => [e, ...DECISIONS.map((d) => m.confusion[e][d]), DECISIONS.reduce((a, d) => a + m.confusion[e][d], 0)]),
    ),
  );

  out.push(
    table(
      'Per decision (an auto_execute counts as a hit only with the right runbook)',
      ['decision', 'labelled', 'decided', 'hits', 'precision', 'recall'],
      m.perDecision.map((d) => [d.decision, d.support, d.predicted, d.hits, f3(d.precision), f3(d.recall)]),
    ),
  );

  const clear = m.clearAutoExecuted;
  const all = m.labelledAutoExecuted;
  const wrongOk = m.wrongAutoExecute <= thresholds.maxWrongAuto;
  const clearOk = clear.share !== null && clear.share >= thresholds.minClearAuto;
  const late = m.lateAutoExecuted;
  const lateOk = late.share === null || late.share >= thresholds.minLateAuto;
  out.push(
    table('Targets', ['check', 'value', 'target', 'result'], [
      ['wrong auto_execute', `${m.wrongAutoExecute}${m.wrongAutoIds.length > 0 ? ` (#${m.wrongAutoIds.join(', #')})` : ''}`, `<= ${thresholds.maxWrongAuto}`, wrongOk ? 'PASS' : 'FAIL'],
      ['clear runbook incidents auto-executed', `${clear.hits}/${clear.total} (${pct(clear.share)})`, `>= ${pct(thresholds.minClearAuto)}`, clear.total === 0 ? '-' : clearOk ? 'PASS' : 'FAIL'],
      ['late alerts (T 5-12 min after the onset) auto-executed', `${late.hits}/${late.total} (${pct(late.share)})`, `>= ${pct(thresholds.minLateAuto)}`, late.total === 0 ? '-' : lateOk ? 'PASS' : 'FAIL'],
      ['wrong auto_execute among late alerts', `${m.lateWrongAuto}`, `<= ${thresholds.maxWrongAuto} (in the total)`, late.total === 0 ? '-' : m.lateWrongAuto <= thresholds.maxWrongAuto ? 'PASS' : 'FAIL'],
      ['all auto_execute-labelled auto-executed', `${all.hits}/${all.total} (${pct(all.share)})`, 'info', ''],
      ['accuracy (all three decisions)', `${m.correct}/${m.total} (${pct(m.accuracy)})`, 'info', ''],
      [
        'closest call: highest score where auto_execute was wrong',
        m.closestCall === null ? '-' : `${f3(m.closestCall.score)} (#${m.closestCall.id} ${m.closestCall.family}, ${m.closestCall.variant}; ${m.closestCall.blocks.join(',')})`,
        'info (min_confidence 0.8)',
        '',
      ],
      ['Brier score of the confidence', f3(m.brier.score), 'info (lower is better)', ''],
      [`Brier of the base rate (${f3(m.brier.baseRate)})`, f3(m.brier.reference), `skill ${f3(m.brier.skill)}`, ''],
    ]),
  );
  out.push(`Brier label: ${m.brier.label}; Brier = mean (confidence - label)^2 over all ${m.total} scenarios.`);

  out.push(
    table(
      'Reliability of the confidence',
      ['confidence', 'n', 'mean confidence', 'labelled auto_execute'],
      m.reliability.map((b) => [`${b.from.toFixed(1)}-${b.to.toFixed(1)}`, b.n, f3(b.meanConfidence), pct(b.observed)]),
    ),
  );

  if (report.mcp.length > 0) {
    const agree = report.mcp.filter((c) => c.agree).length;
    const view = (v: { decision: string; confidence: number; runbook: string | null } | null): string =>
      v === null ? '-' : `${v.decision} ${v.confidence.toFixed(3)} ${v.runbook ?? '(none)'}`;
    out.push(
      table(
        `MCP end-to-end: triage_confidence through a real client (${agree}/${report.mcp.length} agree)`,
        ['#', 'family', 'library triage()', 'MCP tool', 'agree'],
        report.mcp.map((c) => [c.id, c.family, view(c.library), view(c.tool), c.agree ? 'yes' : `NO: ${c.problem}`]),
      ),
    );
  }

  const rt = report.runtime;
  out.push(
    `\nRuntime: ${rt.totalS.toFixed(1)} s for ${report.options.scenarios} scenarios ` +
      `(${(rt.entries / 1e6).toFixed(1)}M log entries generated and indexed in ${rt.buildS.toFixed(1)} s, triage ${rt.triageS.toFixed(1)} s).`,
  );
  return out.join('\n') + '\n';
}

const short = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 3)}...`);

/** One line per scenario for --verbose: decision, confidence, runbook, blocks, the first reason. */
export function renderScenarioLine(r: ScenarioResult): string {
  const mark = r.wrongAuto ? 'WRONG-AUTO' : r.correct ? 'ok' : 'miss';
  return [
    `#${String(r.id).padStart(3)} ${r.family.padEnd(12)} ${short(r.variant, 26).padEnd(26)}`,
    `right ${r.expected.padEnd(17)} got ${r.decision.padEnd(17)} conf ${r.confidence.toFixed(3)}`,
    `runbook ${(r.runbook ?? '-').padEnd(12)} ${mark.padEnd(10)}`,
    `blocks: ${r.blocks.length === 0 ? '-' : r.blocks.join(',')}`,
    `| ${short(r.reasons[1] ?? r.reasons[0] ?? '', 160)}`,
    `| ${r.description}`,
  ].join('  ');
}
