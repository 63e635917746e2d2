/**
 * What logrotate does to a log, done synchronously by the test process (which is not the
 * server): rename rotation with numbered copies, copytruncate, gzip compression (`compress`,
 * `delaycompress`) keeping the original's mtime as gzip does, and a gzip file read back for
 * the verdict.
 */
import { closeSync, copyFileSync, existsSync, ftruncateSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';

/** Shifts app.log.N (and app.log.N.gz) to N+1, oldest first. */
export function shift(log: string): void {
  let top = 1;
  while (existsSync(`${log}.${top}`) || existsSync(`${log}.${top}.gz`)) top++;
  for (let k = top - 1; k >= 1; k--) {
    for (const ext of ['', '.gz']) {
      if (existsSync(`${log}.${k}${ext}`)) renameSync(`${log}.${k}${ext}`, `${log}.${k + 1}${ext}`);
    }
  }
}

/** `create` rotation: app.log becomes app.log.1 (older ones shifted), a new empty app.log. */
export function rotateRename(log: string): void {
  shift(log);
  renameSync(log, `${log}.1`);
  writeFileSync(log, '');
}

/** `copytruncate`: app.log copied to app.log.1 (older ones shifted), then truncated in place. */
export function copyTruncate(log: string): void {
  shift(log);
  copyFileSync(log, `${log}.1`);
  const fd = openSync(log, 'r+');
  ftruncateSync(fd, 0);
  closeSync(fd);
}

/** gzip FILE: FILE.gz with FILE's mtime, then FILE removed (what logrotate's compress runs). */
export function gzipFile(file: string): void {
  const { atime, mtime } = statSync(file);
  writeFileSync(`${file}.gz`, gzipSync(readFileSync(file)));
  utimesSync(`${file}.gz`, atime, mtime);
  unlinkSync(file);
}

/** Writes the decompressed content of a .gz file to `out` (for the verdict, which reads plain files). */
export function gunzipTo(gz: string, out: string): string {
  writeFileSync(out, gunzipSync(readFileSync(gz)));
  return out;
}
