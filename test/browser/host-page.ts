/**
 * A minimal MCP Apps host for the browser test, bundled by esbuild in the test: it embeds the
 * `ui://` document in a sandboxed iframe (scripts only, opaque origin, the CSP a host builds
 * from the resource's `_meta.ui.csp`), connects the official AppBridge to it, delivers the
 * tool input and result, and forwards the view's tool calls to `window.hostCallTool`, which the
 * test exposes and answers through a real MCP client.
 */
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';
import type { CallToolRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';

interface UiCsp {
  connectDomains?: string[];
  resourceDomains?: string[];
  frameDomains?: string[];
  baseUriDomains?: string[];
}

export interface MountArgs {
  html: string;
  csp: UiCsp;
  toolName: string;
  toolArgs: Record<string, unknown>;
  toolResult: CallToolResult;
  theme: 'light' | 'dark';
  width: number;
}

declare global {
  interface Window {
    hostCallTool(params: CallToolRequest['params']): Promise<CallToolResult>;
    mountView(args: MountArgs): Promise<void>;
    setHostTheme(theme: 'light' | 'dark'): Promise<void>;
    hostLog: string[];
  }
}

/** The policy SEP-1865 tells hosts to build from `_meta.ui.csp`, with 'none' where a list is empty. */
function policyOf(csp: UiCsp): string {
  const list = (xs: string[] | undefined): string => (xs !== undefined && xs.length > 0 ? xs.join(' ') : "'none'");
  const res = csp.resourceDomains?.join(' ') ?? '';
  return [
    "default-src 'none'",
    `script-src 'unsafe-inline' ${res}`,
    `style-src 'unsafe-inline' ${res}`,
    `img-src data: ${res}`,
    `font-src ${res || "'none'"}`,
    `connect-src ${list(csp.connectDomains)}`,
    `frame-src ${list(csp.frameDomains)}`,
    `base-uri ${list(csp.baseUriDomains)}`,
    "object-src 'none'",
  ].join('; ');
}

type HostContext = NonNullable<ConstructorParameters<typeof AppBridge>[3]>['hostContext'];
let bridge: AppBridge | null = null;
let context: HostContext = {};
window.hostLog = [];

window.mountView = async (a: MountArgs): Promise<void> => {
  const iframe = document.createElement('iframe');
  iframe.setAttribute('sandbox', 'allow-scripts');
  iframe.style.width = `${a.width}px`;
  iframe.style.height = '200px';
  iframe.style.border = '1px solid #8888';
  document.body.append(iframe);
  context = {
    theme: a.theme,
    displayMode: 'inline',
    platform: 'web',
    containerDimensions: { width: a.width, maxHeight: 4000 },
    toolInfo: { tool: { name: a.toolName, inputSchema: { type: 'object' } } },
  };
  const b = new AppBridge(null, { name: 'log-triage-test-host', version: '1.0.0' }, { serverTools: {}, logging: {} }, { hostContext: context });
  bridge = b;
  b.oncalltool = async (params) => window.hostCallTool(params);
  b.onsizechange = ({ height }) => {
    if (height !== undefined) iframe.style.height = `${height}px`;
  };
  b.onloggingmessage = (m) => window.hostLog.push(JSON.stringify(m));
  b.oninitialized = () => {
    void b.sendToolInput({ arguments: a.toolArgs }).then(() => b.sendToolResult(a.toolResult));
  };
  await b.connect(new PostMessageTransport(iframe.contentWindow!, iframe.contentWindow!));
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policyOf(a.csp)}">`;
  iframe.srcdoc = a.html.replace('<head>', `<head>${meta}`);
};

window.setHostTheme = async (theme) => {
  if (bridge === null) throw new Error('no view mounted');
  context = { ...context, theme };
  bridge.setHostContext(context!);
};
