/** Types of seq-writer.mjs (plain JS so it runs as a process without a build step). */
export declare const BASE_MS: number;
export declare function entryUs(seq: number): number;
export declare function entryTag(seq: number): string;
export declare function entryLines(seq: number): string[];
export declare function entryBody(seq: number): string;
export declare function seqOf(body: string): number;
