/**
 * A port for a child server (clickhouse-server, a `serve --port N` under test) to bind later.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The low end of the kernel's ephemeral range: ports handed out for listen(0) and for outgoing
 * connections. A port picked with listen(0) and closed is back in that pool, and any test's
 * server or any outgoing connection could take it before clickhouse-server binds it: that
 * race failed CI once (clickhouse-server exited 70, "Address already in use"). Ports are
 * therefore picked below this range, where nothing is handed out by the kernel.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 12_000) return low;
  } catch {
    // not Linux (macOS hands out 49152 and up): below 32768 is below both
  }
  return 32_768;
}

const picked = new Set<number>();

/** A random port in [10000, ephemeral low) that is free now and not picked before by this process. */
export async function pickPort(): Promise<number> {
  const low = 10_000;
  const high = ephemeralLow();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (picked.has(port) || port === 8123 || port === 9000 || port === 9009) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) {
      picked.add(port);
      return port;
    }
  }
  throw new Error(`no free port found in [${low}, ${high})`);
}
