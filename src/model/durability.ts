/**
 * When appended entries are made durable (--fsync): `batch` every 1,000 entries or 500 ms,
 * `always` before an append resolves, `off` never by this process (the kernel decides).
 */
export type FsyncPolicy = 'batch' | 'always' | 'off';
