/**
 * End-to-end check: the same scenario store served by the real MCP server (createServer), a
 * real SDK Client over the SDK's in-memory transport, and a triage_confidence call. The
 * tool must agree with the library call the eval graded: same decision, runbook, blocks and
 * confidence (the tool reports it to 3 decimals).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createServer } from '../../src/mcp/server.js';
import type { Store } from '../../src/store/store.js';
import type { RunbookCatalog } from '../../src/triage/index.js';
import type { ScenarioResult } from './run.js';

export interface McpView {
  decision: string;
  confidence: number;
  runbook: string | null;
  blocks: string[];
}

export interface McpCheck {
  id: number;
  family: string;
  library: McpView;
  tool: McpView | null;
  agree: boolean;
  /** What differed, or the tool's error. */
  problem: string | null;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

interface ToolOut {
  decision: string;
  confidence: number;
  runbook: { id: string } | null;
  blocks: string[];
}

export async function checkThroughMcp(store: Store, catalog: RunbookCatalog, r: ScenarioResult): Promise<McpCheck> {
  const library: McpView = { decision: r.decision, confidence: r3(r.confidence), runbook: r.runbook, blocks: [...r.blocks] };
  const { server } = createServer({ store, runbooks: catalog });
  const client = new Client({ name: 'triage-eval', version: '1.0.0' });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  let tool: McpView | null = null;
  let problem: string | null = null;
  try {
    await server.connect(serverTransport);
    await client.connect(clientTransport);
    const res = (await client.callTool({ name: 'triage_confidence', arguments: { timestamp: r.timestamp } })) as CallToolResult;
    if (res.isError === true) {
      const first = res.content[0];
      problem = `tool error: ${first?.type === 'text' ? first.text : 'no text'}`;
    } else {
      const out = res.structuredContent as unknown as ToolOut;
      tool = { decision: out.decision, confidence: out.confidence, runbook: out.runbook?.id ?? null, blocks: out.blocks };
      const diffs: string[] = [];
      if (tool.decision !== library.decision) diffs.push(`decision ${tool.decision} vs ${library.decision}`);
      if (tool.runbook !== library.runbook) diffs.push(`runbook ${tool.runbook} vs ${library.runbook}`);
      if (tool.confidence !== library.confidence) diffs.push(`confidence ${tool.confidence} vs ${library.confidence}`);
      if (tool.blocks.join(',') !== library.blocks.join(',')) diffs.push(`blocks ${tool.blocks.join(',')} vs ${library.blocks.join(',')}`);
      if (diffs.length > 0) problem = diffs.join('; ');
    }
  } finally {
    await client.close();
    await server.close();
  }
  return { id: r.id, family: r.family, library, tool, agree: problem === null, problem };
}
