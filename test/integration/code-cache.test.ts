/**
 * The launcher's V8 code cache (src/launch.ts, issue 12): a `serve` session writes the compiled
 * program to the user's cache directory, keyed by main.js's content hash, the Node version and
 * the architecture; the next session compiles from it and leaves it as it is; a damaged or
 * foreign file is rejected by V8 (the process still answers) and written again; a cache
 * directory that cannot be written costs only speed.
 *
 * Whether a cache was used is seen from outside: the launcher writes the file only when it had
 * none or V8 rejected it, so an accepted cache keeps its inode and bytes.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, requireBuilt } from '../helpers/cli.js';

const SAMPLE = new URL('../fixtures/sample.log', import.meta.url).pathname;
const MAIN = join(CLI, '..', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'ltm-codecache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The file name the launcher uses for a `serve` session of this build on this Node. */
function cacheName(): string {
  const hash = createHash('sha256').update(readFileSync(MAIN)).digest('hex').slice(0, 16);
  return `main-${hash}-serve-${process.version}-${process.arch}.v8cache`;
}

/** Whether a user with no rights of owner or group can read `file` (every directory above it searchable). */
function othersCanRead(file: string): boolean {
  if ((statSync(file).mode & 0o004) === 0) return false;
  for (let d = dirname(file); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (dirname(d) === d) return true;
  }
}

interface Session {
  code: number | null;
  signal: NodeJS.Signals | null;
  status: string | undefined;
  stderr: string;
}

/**
 * Spawns `serve` over stdio with XDG_CACHE_HOME=home, asks find_nearest_log until it answers
 * "ok" (newline-delimited JSON-RPC, no client library), ends stdin and waits for the exit (the
 * launcher writes its cache at exit at the latest).
 */
function session(home: string, as: { uid: number; gid: number } | undefined = undefined): Promise<Session> {
  requireBuilt();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--ephemeral', '--source', SAMPLE], {
      env: { ...process.env, XDG_CACHE_HOME: home, LOG_TRIAGE_LOG_LEVEL: 'warn' },
      ...as,
    });
    const send = (m: object): boolean => child.stdin.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\n');
    const ask = (): boolean => send({ id: 2, method: 'tools/call', params: { name: 'find_nearest_log', arguments: { timestamp: '2024-01-15T10:30:40Z' } } });
    let status: string | undefined;
    let stderr = '';
    let buf = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { id?: number; result?: { structuredContent?: { status?: string } } };
        buf = buf.slice(nl + 1);
        if (msg.id === 1) {
          send({ method: 'notifications/initialized' });
          ask();
        } else if (msg.id === 2) {
          status = msg.result?.structuredContent?.status;
          // Before the file is read the answer is "empty": ask again.
          if (status === 'ok') child.stdin.end();
          else ask();
        }
      }
    });
    child.stdin.on('error', () => {}); // a process that died early: seen in code/signal
    child.on('close', (code, signal) => resolve({ code, signal, status, stderr }));
    send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'code-cache-test', version: '1' } } });
  });
}

/** Answered and exited 0, with nothing on stderr but log lines (an error thrown at exit prints a stack and keeps code 0). */
function expectAnswered(s: Session): void {
  expect({ code: s.code, signal: s.signal, status: s.status }, s.stderr).toEqual({ code: 0, signal: null, status: 'ok' });
  expect(s.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{"level":'))).toEqual([]);
}

/** A fresh XDG_CACHE_HOME holding a valid cache of this build, written by one session. */
async function warmHome(name: string): Promise<{ home: string; file: string }> {
  const home = join(dir, name);
  const s = await session(home);
  expectAnswered(s);
  return { home, file: join(home, 'log-triage-mcp', cacheName()) };
}

describe('code cache (src/launch.ts)', { timeout: 60_000 }, () => {
  it('a first session writes the cache, keyed by build, Node version and architecture, atomically', async () => {
    const { home, file } = await warmHome('first');
    expect(readdirSync(join(home, 'log-triage-mcp'))).toEqual([cacheName()]); // no temporary file left
    expect(statSync(file).size).toBeGreaterThan(100_000);
  });

  it('the next session compiles from the cache and leaves it as it is', async () => {
    const { home, file } = await warmHome('reuse');
    const before = statSync(file);
    const bytes = readFileSync(file);
    expectAnswered(await session(home));
    const after = statSync(file);
    // A rejected cache would have been written again, through a new file renamed over it.
    expect({ ino: after.ino, mtime: after.mtimeMs }).toEqual({ ino: before.ino, mtime: before.mtimeMs });
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  // Each of these aborted the process in V8's deserializer, at every start, while the cache
  // carried no checksum: flipped bytes inside the payload, with the header intact.
  const damaged: [string, (good: Buffer) => Buffer][] = [
    ['bytes flipped inside the payload', (good) => {
      const b = Buffer.from(good);
      for (let i = 0, at = Math.floor(b.length / 3); i < 64; i++, at += 997) b[at] = b[at]! ^ 0xff;
      return b;
    }],
    ['a zeroed run inside the payload', (good) => Buffer.from(good).fill(0, good.length >> 1, (good.length >> 1) + 512)],
    ['cut short', (good) => good.subarray(0, good.length >> 1)],
    ['random bytes', (good) => Buffer.from(Array.from({ length: good.length }, (_, i) => (i * 7919 + 13) & 0xff))],
    ['a valid cache of another script', () => new vm.Script('globalThis.x = 1 + 2;').createCachedData()],
    ['empty', () => Buffer.alloc(0)],
  ];
  for (const [what, damage] of damaged) {
    it(`a cache file that is ${what} is rejected: the process answers and writes a good one`, async () => {
      const { home, file } = await warmHome(`damaged-${what.replace(/\W+/g, '-')}`);
      const good = readFileSync(file);
      const bad = damage(good);
      writeFileSync(file, bad);
      expectAnswered(await session(home));
      const rewritten = readFileSync(file);
      expect(rewritten.equals(bad)).toBe(false);
      // What it wrote instead is accepted by the next session (left as it is).
      const ino = statSync(file).ino;
      expectAnswered(await session(home));
      expect(statSync(file).ino).toBe(ino);
    });
  }

  it('a cache directory that cannot be created costs nothing but speed', async () => {
    const home = join(dir, 'blocked');
    mkdirSync(home);
    writeFileSync(join(home, 'log-triage-mcp'), 'a file where the directory would be\n');
    expectAnswered(await session(home));
    expect(readdirSync(home)).toEqual(['log-triage-mcp']);
  });

  // root writes through any directory's permissions: run as root, the session runs as nobody,
  // for whom the root-owned cache directory is read-only (if nobody can reach the build).
  const root = process.getuid?.() === 0;
  it.skipIf(root && ![MAIN, CLI, SAMPLE].every(othersCanRead))('a read-only cache directory is read and left alone; a damaged cache in it is never fatal', async () => {
    const as = root ? { uid: 65534, gid: 65534 } : undefined;
    const { home, file } = await warmHome('read-only');
    const cache = join(home, 'log-triage-mcp');
    chmodSync(dir, 0o755); // mkdtemp's 0700 would keep nobody out altogether
    chmodSync(home, 0o555);
    chmodSync(cache, 0o555);
    try {
      const bytes = readFileSync(file);
      const ino = statSync(file).ino;
      expectAnswered(await session(home, as));
      expect(statSync(file).ino).toBe(ino);
      expect(readFileSync(file).equals(bytes)).toBe(true);
      // A damaged cache it cannot replace: rejected at every start, never fatal.
      chmodSync(cache, 0o755);
      writeFileSync(file, Buffer.from(bytes).fill(0, bytes.length >> 1, (bytes.length >> 1) + 512));
      chmodSync(cache, 0o555);
      expectAnswered(await session(home, as));
      expectAnswered(await session(home, as));
      expect(readdirSync(cache)).toEqual([cacheName()]);
    } finally {
      chmodSync(cache, 0o755);
      chmodSync(home, 0o755);
      chmodSync(dir, 0o700);
    }
  });
});
