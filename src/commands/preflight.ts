/**
 * Start-up checks that turn into a one-line error and exit code 2: a source that exists but
 * cannot be read. A source that does not exist yet is fine: it is waited for.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { ConfigError, type SourceSpec } from '../config.js';

export async function checkSources(sources: readonly SourceSpec[]): Promise<void> {
  for (const s of sources) {
    let st;
    try {
      st = await stat(s.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      throw new ConfigError(`--source ${s.path}: cannot read it (${code ?? String(err)})`);
    }
    if (st.isDirectory()) throw new ConfigError(`--source ${s.path} is a directory; give a log file`);
    try {
      await access(s.path, constants.R_OK);
    } catch (err) {
      throw new ConfigError(`--source ${s.path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
}
