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
import { ApiError, BufferFullError, ClientClosedError, EventRejectedError, FlushError, RateLimitError, ServerError, StripeMeterError, } from "./errors.js";
export class EventBuffer {
    send;
    queue = [];
    inFlight = 0;
    waiters = [];
    running = null;
    timer;
    closed = false;
    maxBatchSize;
    maxBufferSize;
    opts;
    constructor(send, opts) {
        this.send = send;
        this.opts = opts;
        this.maxBatchSize = Math.max(1, Math.min(1000, opts.maxBatchSize ?? 500));
        this.maxBufferSize = Math.max(this.maxBatchSize, opts.maxBufferSize ?? 10_000);
        this.timer = setInterval(() => this.kick(), Math.max(10, opts.flushIntervalMs ?? 1000));
        this.timer.unref();
    }
    /** Events held in memory (queued + in flight). */
    get size() {
        return this.queue.length + this.inFlight;
    }
    async add(event) {
        if (this.closed)
            throw new ClientClosedError("client is closed");
        while (this.size >= this.maxBufferSize) {
            if (this.opts.onFull === "drop") {
                this.opts.onDrop?.([event], new BufferFullError(`buffer full (${this.maxBufferSize} events); event dropped`));
                return "dropped";
            }
            await this.waitForRoom();
            if (this.closed)
                throw new ClientClosedError("client is closed");
        }
        this.queue.push(event);
        if (this.queue.length >= this.maxBatchSize)
            this.kick();
        return "queued";
    }
    waitForRoom() {
        return new Promise((resolve, reject) => {
            const timeoutMs = this.opts.blockTimeoutMs ?? 30_000;
            const waiter = { resolve, reject, timer: undefined };
            if (Number.isFinite(timeoutMs)) {
                waiter.timer = setTimeout(() => {
                    this.waiters = this.waiters.filter((w) => w !== waiter);
                    reject(new BufferFullError(`buffer full (${this.maxBufferSize} events) for ${timeoutMs} ms; event not queued`));
                }, timeoutMs);
            }
            this.waiters.push(waiter);
            this.kick();
        });
    }
    wakeWaiters() {
        let room = this.maxBufferSize - this.size;
        while (room > 0 && this.waiters.length > 0) {
            const w = this.waiters.shift();
            if (w.timer)
                clearTimeout(w.timer);
            w.resolve();
            room--;
        }
    }
    /** Serialise all sending: one batch in flight at a time. */
    exclusive(fn) {
        const prev = this.running ?? Promise.resolve();
        const p = prev.catch(() => undefined).then(fn);
        this.running = p;
        p.catch(() => undefined).finally(() => {
            if (this.running === p)
                this.running = null;
        });
        return p;
    }
    /** Start a background drain unless one is running. Failures stay in the buffer. */
    kick() {
        if (this.running !== null || this.queue.length === 0)
            return;
        this.exclusive(() => this.drain(Infinity)).catch((err) => {
            const events = this.queue.slice(0, this.maxBatchSize);
            this.opts.onError?.(asStripeMeterError(err), events);
        });
    }
    /** Send batches until `limit` events were handled or the queue is empty; throws on delivery failure. */
    async drain(limit) {
        let handled = 0;
        while (this.queue.length > 0 && handled < limit) {
            const batch = this.queue.splice(0, this.maxBatchSize);
            this.inFlight = batch.length;
            let response;
            try {
                response = await this.send(batch);
            }
            catch (err) {
                this.inFlight = 0;
                if (err instanceof ApiError && !(err instanceof RateLimitError) && !(err instanceof ServerError) && err.status !== 408) {
                    // Refused as a whole; retrying cannot help.
                    this.opts.onDrop?.(batch, err);
                    handled += batch.length;
                    this.wakeWaiters();
                    continue;
                }
                this.queue.unshift(...batch);
                throw err;
            }
            this.inFlight = 0;
            handled += batch.length;
            this.wakeWaiters();
            this.opts.onResult?.(response);
            for (const r of response.results) {
                if (r.status === "rejected" || r.status === "conflict") {
                    const ev = batch[r.index];
                    this.opts.onError?.(new EventRejectedError(r.idempotencyKey, r.status, r.error?.code, r.error?.message, r.error?.field), ev ? [ev] : []);
                }
            }
        }
    }
    /** Send everything buffered now. Rejects with FlushError if delivery fails (events stay buffered). */
    async flush() {
        const limit = this.size;
        try {
            await this.exclusive(() => this.drain(limit));
        }
        catch (err) {
            throw new FlushError(`flush failed; ${this.size} event(s) still buffered: ${asStripeMeterError(err).message}`, [...this.queue], err);
        }
    }
    /** Stop the timer and deliver everything. On failure the undelivered events are handed back in FlushError. */
    async close() {
        if (this.closed) {
            await this.running?.catch(() => undefined);
            return;
        }
        this.closed = true;
        clearInterval(this.timer);
        for (const w of this.waiters.splice(0)) {
            if (w.timer)
                clearTimeout(w.timer);
            w.reject(new ClientClosedError("client closed while waiting for buffer room"));
        }
        try {
            await this.exclusive(() => this.drain(Infinity));
        }
        catch (err) {
            const events = this.queue.splice(0);
            throw new FlushError(`close could not deliver ${events.length} event(s): ${asStripeMeterError(err).message}`, events, err);
        }
    }
}
function asStripeMeterError(err) {
    if (err instanceof StripeMeterError)
        return err;
    return new StripeMeterError(err instanceof Error ? err.message : String(err), { cause: err });
}
