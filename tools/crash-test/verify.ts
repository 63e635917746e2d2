/**
 * The crash test's verdict: what the log files on disk hold (every entry carries a unique
 * `seq=<n>`), what the data dir's index holds, and the difference: entries lost, indexed more
 * than once, or indexed with a body, time, tag or line number that is not the file's.
 *
 * The files are streamed; per seq only a few numbers are kept (file, line, time, tag and a
 * CRC32C of the body), so a 100-round run of a few million lines stays well under 100 MB.
 * The index is read back in-process with the project's own engine, after the server stopped.
 */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32c } from '../../src/wal/crc32c.js';
import { resolveConfig } from '../../src/config.js';
import { openEngine } from '../../src/engine.js';
import { silentLogger } from '../../src/log.js';

const TAGS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'NONE'];
const SEQ = Buffer.from('seq=');
/** Entries read back per entriesInRange call, at most. */
const PAGE = 50_000;

/** The log file and its rotated copies, oldest first: app.log.N .. app.log.1, app.log. */
export function logFiles(path: string): string[] {
  const dir = dirname(path);
  const name = basename(path);
  const rotated: { n: number; file: string }[] = [];
  let current: string | null = null;
  for (const f of readdirSync(dir)) {
    if (f === name) current = join(dir, f);
    const m = f.startsWith(name + '.') ? /^\d+$/.exec(f.slice(name.length + 1)) : null;
    if (m !== null) rotated.push({ n: Number(m[0]), file: join(dir, f) });
  }
  rotated.sort((a, b) => b.n - a.n);
  return [...rotated.map((r) => r.file), ...(current === null ? [] : [current])];
}

/** Calls onLine(buf, start, end, lineNo) for every complete line, streaming in 4 MiB reads. */
function eachLine(file: string, onLine: (buf: Buffer, start: number, end: number, lineNo: number) => void): void {
  const fd = openSync(file, 'r');
  try {
    let buf = Buffer.alloc(4 << 20);
    let have = 0;
    let pos = 0;
    let lineNo = 0;
    for (;;) {
      if (have === buf.length) {
        const bigger = Buffer.alloc(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const n = readSync(fd, buf, have, buf.length - have, pos);
      if (n === 0) break;
      pos += n;
      have += n;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl >= 0 && nl < have; nl = buf.indexOf(10, start)) {
        onLine(buf, start, nl, ++lineNo);
        start = nl + 1;
      }
      buf.copy(buf, 0, start, have);
      have -= start;
    }
    // An unterminated last line is not a finished entry: the writer was stopped cleanly, so
    // there is none; if there were, the server is right to wait for its newline.
  } finally {
    closeSync(fd);
  }
}

/** `seq=<n>` at the end of the line (a word of its own), or -1. */
function seqAt(buf: Buffer, start: number, end: number): number {
  const at = buf.lastIndexOf(SEQ, end - 1);
  if (at < start || (at > start && buf[at - 1] !== 32)) return -1;
  let n = 0;
  let digits = 0;
  for (let p = at + SEQ.length; p < end; p++) {
    const c = buf[p]!;
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
    digits++;
  }
  return digits === 0 ? -1 : n;
}

/** What the files say about each seq in [firstSeq, firstSeq + count). */
export interface Expected {
  firstSeq: number;
  count: number;
  files: readonly string[];
  /** Per seq: index into files + 1 (0 = not found in any file), line number, time, tag, body CRC. */
  file: Uint16Array;
  line: Uint32Array;
  tsUs: Float64Array;
  tag: Uint8Array;
  bodyCrc: Uint32Array;
  /** Lines in the files, and lines that carry no usable seq or timestamp (should be 0). */
  lines: number;
  unparsable: number;
  /** Seqs found twice in the files, or outside the writer's range (both should be 0). */
  fileDuplicates: number;
  outOfRange: number;
}

/** Scans the files (oldest first; see logFiles) for seqs firstSeq .. firstSeq + count - 1. */
export function scanFiles(files: readonly string[], firstSeq: number, count: number): Expected {
  const ex: Expected = {
    firstSeq, count, files,
    file: new Uint16Array(count), line: new Uint32Array(count), tsUs: new Float64Array(count),
    tag: new Uint8Array(count), bodyCrc: new Uint32Array(count),
    lines: 0, unparsable: 0, fileDuplicates: 0, outOfRange: 0,
  };
  files.forEach((file, fi) => {
    eachLine(file, (buf, start, end, lineNo) => {
      ex.lines++;
      const seq = seqAt(buf, start, end);
      const open = buf.indexOf(0x5b, start); // '['
      const close = open < 0 ? -1 : buf.indexOf(0x5d, open); // ']'
      const tsMs = open > start ? Date.parse(buf.toString('latin1', start, open).trim()) : NaN;
      if (seq < 0 || close < 0 || close >= end || !Number.isFinite(tsMs)) {
        ex.unparsable++;
        return;
      }
      const k = seq - firstSeq;
      if (k < 0 || k >= count) {
        ex.outOfRange++;
        return;
      }
      if (ex.file[k] !== 0) {
        ex.fileDuplicates++;
        return;
      }
      const bodyStart = buf[close + 1] === 32 ? close + 2 : close + 1;
      ex.file[k] = fi + 1;
      ex.line[k] = lineNo;
      ex.tsUs[k] = tsMs * 1000;
      ex.tag[k] = Math.max(0, TAGS.indexOf(buf.toString('latin1', open + 1, close)));
      ex.bodyCrc[k] = crc32c(buf.subarray(bodyStart, end));
    });
  });
  return ex;
}

export interface Verdict {
  /** Seqs the files hold. */
  written: number;
  /** Entries the index holds (coverage) and entries actually read back. */
  indexed: number;
  readBack: number;
  lost: number;
  /** Extra copies: an entry indexed three times counts 2. */
  duplicated: number;
  /** Indexed entries whose body, time or tag differ from the file's line, or carry no known seq. */
  corrupt: number;
  /** Entries whose line number is not the line the file holds them at. */
  wrongLine: number;
  /** Seqs the writer reported but no file holds (a writer or rotation problem, not the server's). */
  missingFromFiles: number;
  /** Per file (base name) that lost anything: lines lost of lines held. */
  lostByFile: Record<string, { lost: number; lines: number }>;
  samples: string[];
}

/** Reads every indexed entry of the data dir and compares it with the files. */
export async function verifyDataDir(dataDir: string, ex: Expected): Promise<Verdict> {
  const config = resolveConfig(['status', '--data-dir', dataDir]);
  const engine = await openEngine({ ...config, sources: [], ephemeral: false }, silentLogger, { readOnly: true });
  const seen = new Uint8Array(ex.count);
  const v: Verdict = {
    written: 0, indexed: 0, readBack: 0, lost: 0, duplicated: 0, corrupt: 0, wrongLine: 0, missingFromFiles: 0, lostByFile: {}, samples: [],
  };
  const sample = (s: string): void => {
    if (v.samples.length < 12) v.samples.push(s);
  };
  try {
    const store = engine.store;
    const cov = await store.coverage();
    v.indexed = cov.entries;
    if (cov.firstTs !== null && cov.lastTs !== null) {
      const end = cov.lastTs + 1;
      let from = cov.firstTs;
      let width = 1_000_000;
      while (from < end) {
        const to = Math.min(end, from + width);
        const range = { from, to, tags: null };
        const n = await store.countInRange(range);
        if (n > PAGE && width > 1) {
          width = Math.max(1, Math.floor(width / 2));
          continue;
        }
        const entries = n === 0 ? [] : await store.entriesInRange(range, n, 65_000);
        if (entries.length !== n) sample(`index: ${n} entries counted in [${from}, ${to}) but ${entries.length} read back`);
        for (const e of entries) {
          v.readBack++;
          const body = Buffer.from(e.body);
          const seq = seqAt(body, 0, body.length);
          const k = seq - ex.firstSeq;
          if (seq < 0 || k < 0 || k >= ex.count || ex.file[k] === 0) {
            v.corrupt++;
            sample(`corrupt: ${e.source}:${e.line} holds no known seq: ${JSON.stringify(e.body.slice(0, 120))}`);
            continue;
          }
          if (++seen[k]! > 1) {
            v.duplicated++;
            if (seen[k] === 2) sample(`duplicated: seq=${seq} (${e.source}:${e.line})`);
          }
          const bad: string[] = [];
          if (crc32c(body) !== ex.bodyCrc[k]) bad.push('body');
          if (e.ts !== ex.tsUs[k]) bad.push(`time ${e.ts} vs ${ex.tsUs[k]}`);
          if (e.tag !== TAGS[ex.tag[k]!]) bad.push(`tag ${e.tag}`);
          if (bad.length > 0) {
            v.corrupt++;
            sample(`corrupt: seq=${seq} ${bad.join(', ')}: ${JSON.stringify(e.body.slice(0, 120))}`);
          } else if (e.line !== ex.line[k]) {
            v.wrongLine++;
            sample(`wrong line: seq=${seq} indexed as line ${e.line}, file ${basename(ex.files[ex.file[k]! - 1]!)} has it at ${ex.line[k]}`);
          }
        }
        from = to;
        if (n < PAGE / 4) width *= 2;
      }
    }
  } finally {
    await engine.close();
  }
  const linesOf = new Map<number, number>();
  for (let k = 0; k < ex.count; k++) {
    if (ex.file[k] === 0) {
      v.missingFromFiles++;
      continue;
    }
    v.written++;
    linesOf.set(ex.file[k]!, (linesOf.get(ex.file[k]!) ?? 0) + 1);
    if (seen[k] === 0) {
      v.lost++;
      const name = basename(ex.files[ex.file[k]! - 1]!);
      (v.lostByFile[name] ??= { lost: 0, lines: 0 }).lost++;
      if (v.lost <= 5) sample(`lost: seq=${ex.firstSeq + k} (${name} line ${ex.line[k]})`);
    }
  }
  ex.files.forEach((file, i) => {
    const entry = v.lostByFile[basename(file)];
    if (entry === undefined) return;
    entry.lines = linesOf.get(i + 1) ?? 0;
    // The follower resumes in the file it was reading and then reads the current one: a file
    // that was rotated in and out entirely while no server read (two rotations during one
    // outage) is never seen.
    if (entry.lost === entry.lines) sample(`lost: all ${entry.lines} lines of ${basename(file)} (rotated in and out while no server was reading?)`);
  });
  return v;
}
