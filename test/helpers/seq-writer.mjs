/**
 * A log writer for the ingestion tests, usable in-process (entryLines, entryBody) or as a real
 * process that appends on a timer and rotates its own file the way real programs and
 * logrotate do.
 *
 * Entry `seq` is stamped BASE_MS + seq milliseconds and carries `seq=N` in its body, so a
 * test can tell exactly which entries were indexed, and how often. Every 7th entry has a
 * stack trace (continuation lines). Each entry is written with one write(2), as loggers do.
 *
 * As a process: `node seq-writer.mjs '<json options>'`, options:
 *   path        the log path (for mode symlink: the link; targets go to `<dir>/targets/`)
 *   mode        none | rename | copytruncate | delete | symlink
 *   total       entries to write; first  first seq (default 0)
 *   perTick     entries per timer tick; intervalMs  tick period
 *   rotateEvery rotate before every entry whose seq is a positive multiple of this
 *   linger      entries still written to the old file after a rename/delete/symlink swap,
 *               like a program that reopens its log a little later
 * On exit it prints one JSON line: { rotations, lines, lastRotationAt } where lines[i] is the
 * 1-based line number of entry first+i in the file it was written to.
 */
import {
  closeSync, copyFileSync, existsSync, ftruncateSync, mkdirSync, openSync, renameSync, symlinkSync, unlinkSync, writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASE_MS = Date.parse('2024-01-15T00:00:00.000Z');
const LEVELS = ['INFO', 'WARN', 'ERROR', 'DEBUG', 'INFO'];

/** Epoch microseconds of entry seq. */
export function entryUs(seq) {
  return (BASE_MS + seq) * 1000;
}

export function entryTag(seq) {
  return LEVELS[seq % LEVELS.length];
}

/** The physical lines of entry seq, without line ends. */
export function entryLines(seq) {
  const ts = new Date(BASE_MS + seq).toISOString();
  const lines = [`${ts} [${entryTag(seq)}] seq=${seq} payload ${'x'.repeat(seq % 37)}`];
  if (seq % 7 === 3) for (let k = 0; k <= seq % 3; k++) lines.push(`    at frame${k} (/srv/app.js:${seq}:${k})`);
  return lines;
}

/** The body the index should return for entry seq (continuation lines joined by \n). */
export function entryBody(seq) {
  const [head, ...rest] = entryLines(seq);
  return [head.slice(head.indexOf('] ') + 2), ...rest].join('\n');
}

/** The seq number in a body, or -1. */
export function seqOf(body) {
  const m = /^seq=(\d+) /.exec(body);
  return m === null ? -1 : Number(m[1]);
}

function shift(path) {
  let k = 1;
  while (existsSync(`${path}.${k}`)) k++;
  for (; k > 1; k--) renameSync(`${path}.${k - 1}`, `${path}.${k}`);
}

function run(o) {
  const first = o.first ?? 0;
  const lines = [];
  let rotations = 0;
  let lastRotationAt = 0;
  let target = 0;
  const targetPath = (k) => join(dirname(o.path), 'targets', `app-${k}.log`);
  if (o.mode === 'symlink' && !existsSync(o.path)) {
    mkdirSync(join(dirname(o.path), 'targets'), { recursive: true });
    closeSync(openSync(targetPath(0), 'a'));
    symlinkSync(targetPath(0), o.path);
  }
  let fd = openSync(o.path, 'a');
  let fileLine = 0;
  /** After a rename/delete/swap: the old fd and its line count, used `linger` more entries. */
  let old = null;
  let seq = first;
  const end = first + o.total;

  const rotate = () => {
    rotations++;
    if (o.mode === 'copytruncate') {
      // Copy then truncate in the same synchronous step: no write can fall between them.
      shift(o.path);
      copyFileSync(o.path, `${o.path}.1`);
      ftruncateSync(fd, 0);
      fileLine = 0;
      lastRotationAt = Date.now();
      return;
    }
    if (o.mode === 'rename') {
      shift(o.path);
      renameSync(o.path, `${o.path}.1`);
    } else if (o.mode === 'delete') {
      unlinkSync(o.path);
    } else if (o.mode === 'symlink') {
      target++;
      closeSync(openSync(targetPath(target), 'a'));
      symlinkSync(targetPath(target), `${o.path}.swap`);
      renameSync(`${o.path}.swap`, o.path);
    }
    old = { fd, line: fileLine, left: o.linger ?? 0 };
    fd = -1;
    fileLine = 0;
  };

  const writeOne = () => {
    if (o.mode !== 'none' && seq > first && (seq - first) % o.rotateEvery === 0) rotate();
    const text = entryLines(seq).join('\n') + '\n';
    const n = entryLines(seq).length;
    if (old !== null && old.left > 0) {
      old.left--;
      lines.push(old.line + 1);
      old.line += n;
      writeSync(old.fd, text);
    } else {
      if (old !== null) {
        closeSync(old.fd);
        old = null;
        lastRotationAt = Date.now();
      }
      if (fd < 0) fd = openSync(o.path, 'a');
      lines.push(fileLine + 1);
      fileLine += n;
      writeSync(fd, text);
    }
    seq++;
  };

  const timer = setInterval(() => {
    for (let i = 0; i < o.perTick && seq < end; i++) writeOne();
    if (seq < end) return;
    clearInterval(timer);
    if (old !== null) {
      closeSync(old.fd);
      lastRotationAt = Date.now();
    }
    // The program reopens its log after a rotation even when it has nothing more to say.
    if (fd < 0) fd = openSync(o.path, 'a');
    closeSync(fd);
    process.stdout.write(JSON.stringify({ rotations, lines, lastRotationAt }) + '\n');
  }, o.intervalMs);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) run(JSON.parse(process.argv[2]));
