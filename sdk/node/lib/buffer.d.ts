/**
 * Background batching for buffered mode.
 *
 * Policy (also in the README):
 * * Events wait in memory and are sent in batches of up to `maxBatchSize`, every
 *   `flushIntervalMs` or as soon as a full batch is waiting. One batch is in flight at a time.
 * * Memory is bounded by `maxBufferSize` events (queued + in flight).
 * * When the server cannot be reached (retries exhausted), the batch goes back to the
 *   front of the buffer and is tried again on the next tick; nothing is dropped for that.
 * * When the buffer is full: `onFull: "block"` (default) makes `track()` wait for room,
 *   up to `blockTimeoutMs`, then reject with BufferFullError (the event is not queued);
 *   `onFull: "drop"` drops the new event at once and calls `onDrop([event], BufferFullError)`.
 * * A batch the server refuses as a whole with a non-retryable 4xx (bad key, malformed)
 *   cannot succeed by retrying: it is dropped and passed to `onDrop`.
 * * Per-event rejections/conflicts inside an accepted batch go to `onError`.
 * * `flush()` sends what is buffered; `close()` stops the timer and flushes everything;
 *   if that fails, it rejects with FlushError carrying the undelivered events.
 */
import { StripeMeterError } from "./errors.js";
import type { IngestResponse, PreparedEvent } from "./types.js";
export type FullPolicy = "block" | "drop";
export interface BufferOptions {
    /** Events per request (default 500, at most 1000). */
    maxBatchSize?: number;
    /** Background flush interval in ms (default 1000). */
    flushIntervalMs?: number;
    /** Most events held in memory, queued + in flight (default 10_000). */
    maxBufferSize?: number;
    /** What track() does when the buffer is full (default "block"). */
    onFull?: FullPolicy;
    /** With "block": longest wait for room in ms before BufferFullError (default 30_000). */
    blockTimeoutMs?: number;
    /** Called with events that were dropped and why. */
    onDrop?: (events: PreparedEvent[], reason: StripeMeterError) => void;
    /** Called for per-event rejections and for failed background flush attempts. */
    onError?: (error: StripeMeterError, events: PreparedEvent[]) => void;
    /** Called with every successful ingest response. */
    onResult?: (response: IngestResponse) => void;
}
export declare class EventBuffer {
    private readonly send;
    private queue;
    private inFlight;
    private waiters;
    private running;
    private readonly timer;
    private closed;
    readonly maxBatchSize: number;
    readonly maxBufferSize: number;
    private readonly opts;
    constructor(send: (events: PreparedEvent[]) => Promise<IngestResponse>, opts: BufferOptions);
    /** Events held in memory (queued + in flight). */
    get size(): number;
    add(event: PreparedEvent): Promise<"queued" | "dropped">;
    private waitForRoom;
    private wakeWaiters;
    /** Serialise all sending: one batch in flight at a time. */
    private exclusive;
    /** Start a background drain unless one is running. Failures stay in the buffer. */
    private kick;
    /** Send batches until `limit` events were handled or the queue is empty; throws on delivery failure. */
    private drain;
    /** Send everything buffered now. Rejects with FlushError if delivery fails (events stay buffered). */
    flush(): Promise<void>;
    /** Stop the timer and deliver everything. On failure the undelivered events are handed back in FlushError. */
    close(): Promise<void>;
}
