/**
 * The second opinion of triage_confidence's use_llm: the client's model is asked through MCP
 * sampling, with the log evidence fenced as untrusted data. Every failure (no sampling
 * support, an error, a timeout, an unreadable reply) becomes "no opinion" with a note saying
 * why; the opinion can only lower the confidence or veto (src/triage/second-opinion.ts).
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { escapeLogText } from '../../text/index.js';
import { buildSecondOpinionRequest, parseSecondOpinion, SECOND_OPINION_SYSTEM_PROMPT, type TriageResult } from '../../triage/index.js';
import type { LlmOutput } from './triage-confidence-schema.js';
import { r3 } from './triage-confidence-render.js';

export interface SecondOpinionOutcome {
  llm: LlmOutput;
  opinion: { score: number; veto: boolean } | null;
  note: string;
}

/** Asks the client's model; every failure becomes "no opinion" with a reason, never an error. */
export async function askClientModel(
  server: McpServer,
  tr: TriageResult,
  alert: string | undefined,
  timeoutMs: number,
  extra: { signal: AbortSignal; requestId: string | number },
): Promise<SecondOpinionOutcome> {
  const none = (status: LlmOutput['status'], note: string): SecondOpinionOutcome => ({
    llm: { used: false, status, score: null, veto: null, rationale: null },
    opinion: null,
    note,
  });
  if (!server.server.getClientCapabilities()?.sampling) {
    return none('unsupported', 'use_llm was requested but this client does not support MCP sampling: no second opinion, the decision rests on the log evidence alone.');
  }
  let text: string;
  try {
    const reply = await server.server.createMessage(
      {
        messages: [{ role: 'user', content: { type: 'text', text: buildSecondOpinionRequest(tr.evidence, tr.runbook, tr.result, alert) } }],
        systemPrompt: SECOND_OPINION_SYSTEM_PROMPT,
        maxTokens: 400,
        temperature: 0,
        includeContext: 'none',
      },
      { timeout: timeoutMs, signal: extra.signal, relatedRequestId: extra.requestId },
    );
    const blocks = Array.isArray(reply.content) ? reply.content : [reply.content];
    text = blocks.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
  } catch (err) {
    const message = escapeLogText(String((err as Error).message ?? err)).slice(0, 200);
    return none('failed', `The second opinion failed (${message}): the decision rests on the log evidence alone.`);
  }
  const parsed = parseSecondOpinion(text);
  if (!parsed.ok) {
    return none('unparseable', `The model's reply could not be read (${parsed.problem}): treated as no opinion.`);
  }
  return {
    llm: { used: true, status: 'applied', score: r3(parsed.score), veto: parsed.veto, rationale: parsed.rationale },
    opinion: { score: parsed.score, veto: parsed.veto },
    note:
      `The client's model scored ${parsed.score.toFixed(2)}${parsed.veto ? ' and vetoed automatic execution' : ''}; ` +
      'a second opinion can only lower the confidence or veto, never promote the decision' +
      (parsed.score > tr.result.confidence ? ' (its higher score was not used).' : '.'),
  };
}
