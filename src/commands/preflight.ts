/**
 * Start-up checks that turn into a one-line error and exit code 2: a source that exists but
 * cannot be read or is not a regular file. For `serve` a source that does not exist yet is
 * fine (it is waited for); the one-shot commands (`query --source`, `ingest`) need every file
 * now: reading nothing and printing "0 entries" looked like an answer (issue 15, item 5).
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { SourceSpec } from '../config.js';
import { ConfigError } from '../errors.js';

export interface CheckOptions {
  /** query and ingest: a missing file is an error, not something to wait for. */
  oneShot?: boolean;
}

/** What a non-regular file is, in words. */
function kindOf(st: import('node:fs').Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

export async function checkSources(sources: readonly SourceSpec[], options: CheckOptions = {}): Promise<void> {
  for (const s of sources) {
    let st;
    try {
      st = await stat(s.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && options.oneShot === true) {
        throw new ConfigError(`--source ${s.path} does not exist (source '${s.name}'); give an existing log file, as PATH or NAME=PATH`);
      }
      if (code === 'ENOENT') continue;
      throw new ConfigError(`--source ${s.path}: cannot read it (${code ?? String(err)})`);
    }
    if (st.isDirectory()) throw new ConfigError(`--source ${s.path} is a directory; give a log file`);
    // Security/liveness: opening a FIFO blocks until a writer shows up (query and ingest hung,
    // serve could not shut down), and a device never ends (/dev/zero). Regular files only.
    if (!st.isFile()) throw new ConfigError(`--source ${s.path} is ${kindOf(st)}; give a regular log file`);
    try {
      await access(s.path, constants.R_OK);
    } catch (err) {
      throw new ConfigError(`--source ${s.path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
}
