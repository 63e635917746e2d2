/**
 * Runbooks as MCP resources: `runbook://{id}`, listed from the catalog. Each read returns
 * the runbook twice: markdown for people and models, JSON for programs. Runbooks come from
 * the operator's --runbooks file, so their text is trusted configuration, not log data.
 */
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Runbook, RunbookCatalog } from '../triage/index.js';

export const RUNBOOK_URI_PREFIX = 'runbook://';

export function runbookUri(id: string): string {
  return RUNBOOK_URI_PREFIX + id;
}

export function runbookMarkdown(r: Runbook): string {
  return [
    `# ${r.title}`,
    '',
    `- id: \`${r.id}\``,
    `- matches: entries tagged ${r.tags.join(' or ')} whose body matches \`${r.pattern}\`${r.ignoreCase ? ' (ignoring case)' : ''}`,
    `- auto_execute: ${r.autoExecute ? 'yes, when triage_confidence decides auto_execute' : 'no, a human runs it'}`,
    `- min_confidence: ${r.minConfidence}`,
    '',
    '## Steps',
    '',
    ...r.steps.map((s, i) => `${i + 1}. ${s}`),
    '',
  ].join('\n');
}

const NO_RUNBOOKS: readonly Runbook[] = [];

/**
 * `catalog` is undefined without --runbooks: the list is then empty and triage's modules stay
 * unloaded (a catalog given at start-up has loaded them already, src/commands/serve.ts).
 */
export function registerRunbookResources(server: McpServer, catalog: RunbookCatalog | undefined): void {
  const runbooks = catalog?.runbooks ?? NO_RUNBOOKS;
  const template = new ResourceTemplate(`${RUNBOOK_URI_PREFIX}{id}`, {
    list: async () => ({
      resources: runbooks.map((r) => ({
        uri: runbookUri(r.id),
        name: r.id,
        title: r.title,
        description: `Runbook: ${r.title} (${r.autoExecute ? 'may run automatically' : 'manual'})`,
        mimeType: 'text/markdown',
      })),
    }),
    complete: { id: (value) => runbooks.map((r) => r.id).filter((id) => id.startsWith(value)) },
  });
  server.registerResource(
    'runbook',
    template,
    {
      title: 'Runbooks',
      description: 'On-call runbooks from the --runbooks catalog: what each one matches, whether it may run automatically, and its steps.',
      mimeType: 'text/markdown',
    },
    async (uri, variables) => {
      const raw = variables.id;
      const id = Array.isArray(raw) ? raw[0] : raw;
      const runbook = id === undefined ? undefined : catalog?.get(decodeURIComponent(id));
      if (runbook === undefined) {
        const known = runbooks.map((r) => r.id).join(', ') || 'none (start the server with --runbooks FILE)';
        throw new McpError(ErrorCode.InvalidParams, `unknown runbook '${String(id).slice(0, 80)}'; known runbooks: ${known}`);
      }
      const { runbookJson } = await import('../triage/index.js');
      return {
        contents: [
          { uri: uri.href, mimeType: 'text/markdown', text: runbookMarkdown(runbook) },
          { uri: uri.href, mimeType: 'application/json', text: JSON.stringify(runbookJson(runbook), null, 2) },
        ],
      };
    },
  );
}
