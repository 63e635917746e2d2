// Preloaded into a CLI process under test (NODE_OPTIONS=--require): at exit, writes the
// process's peak resident memory (getrusage ru_maxrss, KiB) to $MAX_RSS_FILE.
const { isMainThread } = require('node:worker_threads');
if (isMainThread && process.env.MAX_RSS_FILE) {
  process.on('exit', () => require('node:fs').writeFileSync(process.env.MAX_RSS_FILE, String(process.resourceUsage().maxRSS)));
}
