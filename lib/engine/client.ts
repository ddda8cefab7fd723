/**
 * The request engine: one netlink socket, many requests in flight.
 *
 * Every family (route, netfilter, generic) goes through this one class.
 * It stamps sequence numbers, packs queued requests into as few sendmsg
 * calls as it can, keeps the replies it is waiting for within the receive
 * buffer (the kernel handles a whole sendmsg before we read, and drops
 * replies that do not fit), matches replies by sequence number, turns
 * NLMSG_ERROR into NetlinkError with the extended ACK, runs one dump at a
 * time and always drains it to NLMSG_DONE.
 */
import { constants as osConstants } from 'node:os';
import { NetlinkError, abortError, closedError } from '../errors';
import { native, type NativeNetlinkSocket } from '../native';
import {
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_GET_STRICT_CHK,
  NLMSGERR_ATTR_MISS_NEST,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  SOL_NETLINK,
  SOL_SOCKET,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_SNDBUF,
  SO_SNDBUFFORCE,
} from '../netlink/constants';
import { forEachAttribute, align4 } from '../netlink/attributes';
import { NLMSG_HDRLEN } from '../netlink/message';

/** Called for each reply message (not ACKs or DONE) of a request. */
export type ReplyHandler = (buf: Buffer, offset: number, length: number, type: number, flags: number) => void;

export interface SendOptions {
  /** The request is a dump: replies end with NLMSG_DONE, one dump at a time. */
  dump?: boolean;
  onReply?: ReplyHandler;
  signal?: AbortSignal;
  /** Name for errors, e.g. 'RTM_NEWLINK'; derived from the type by default. */
  operation?: string;
  /** Receive-buffer bytes the replies may need; sized by kind by default. */
  replyBytes?: number;
  /**
   * A dump whose replies are only collected (not a paused stream): when
   * the last dump of its type was big, the sender thread reads it, so the
   * kernel makes each next part while JS decodes the one before.
   */
  readAhead?: boolean;
  /**
   * The kernel answers this request with exactly one message, the object
   * or an error (a GET of one object): no ACK is asked for, and the request
   * is done at that message. Saves the kernel an ACK and us reading it.
   */
  singleReply?: boolean;
}

export interface SendResult {
  /** The kernel flagged a reply NLM_F_DUMP_INTR: the dump may be inconsistent. */
  interrupted: boolean;
}

/** What the kernel said about one message of a batch. */
export interface BatchOutcome {
  /** An ACK or an error came for it (some messages are never answered, e.g. after a framing error). */
  answered: boolean;
  /** The kernel's refusal of this message. */
  error?: NetlinkError;
}

/** What the kernel said about the messages of a bulk send, by message index. */
export interface BulkOutcome {
  /** 1 where an ACK or an error came (some messages are never answered, e.g. after a framing error). */
  answered: Uint8Array;
  /** The kernel's refusals. */
  errors: Map<number, NetlinkError>;
}

export interface BatchOptions {
  signal?: AbortSignal;
  /** Operation names for errors, one per message. */
  operations?: string[];
  /** Replies other than ACKs/errors (e.g. NLM_F_ECHO), with the index of the message they answer. */
  onReply?: (index: number, buf: Buffer, offset: number, length: number, type: number, flags: number) => void;
}

export interface ClientOptions {
  protocol: number;
  /** Open namespace fd the socket is created in; -1 or absent: the caller's. */
  netnsFd?: number;
  /** Receive buffer to ask for (bytes). Forced past rmem_max when privileged. */
  receiveBufferSize?: number;
  /** NETLINK_GET_STRICT_CHK (rtnetlink): kernel-side dump filtering. */
  strictCheck?: boolean;
  /** Message type -> operation name for errors. */
  operationName?: (type: number) => string;
  /** Messages that answer no request (seq 0): notifications. */
  onNotification?: (buf: Buffer, offset: number, length: number, type: number, flags: number, nsid: number) => void;
  /** Socket-level receive errors not tied to a request (ENOBUFS on a listener). */
  onSocketError?: (error: NodeJS.ErrnoException) => void;
}

interface Pending {
  bytes: Buffer;
  seq: number;
  dump: boolean;
  cost: number;
  operation: string;
  onReply?: ReplyHandler;
  resolve: (r: SendResult) => void;
  reject: (e: Error) => void;
  /** 0 queued, 1 sent, 2 cancelled before sending. */
  state: 0 | 1 | 2;
  /** The caller has been answered (abort, early stop); replies are drained silently. */
  settled: boolean;
  interrupted: boolean;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** Set for a batch: several messages sent in one datagram, each with its own seq. */
  batch?: BatchState;
  /** Sent and counted in plainInFlight. */
  plain: boolean;
  singleReply: boolean;
  readAhead: boolean;
  /** Bytes of replies seen (dumps: to learn which types are big). */
  bytesSeen: number;
}

interface BatchState {
  count: number;
  /** The messages carry seqs firstSeq .. firstSeq + count - 1; the fence's is the request's seq. */
  firstSeq: number;
  /** Per message, or one for all. */
  operations: string[] | string;
  answered: Uint8Array;
  errors: Map<number, NetlinkError>;
  onReply?: BatchOptions['onReply'];
}

/** Estimated receive-buffer cost (skb truesize) of one request's replies. */
const ACK_COST = 2048;
const REPLY_COST = 32 * 1024;
const DUMP_COST = 128 * 1024;
/** Limits of one sendmsg: UIO_MAXIOV iovecs, and bytes within the send buffer. */
const MAX_IOV = 1024;
const DEFAULT_RCVBUF = 32 * 1024 * 1024;
const SNDBUF = 4 * 1024 * 1024;
const MAX_SEND_BYTES = 1024 * 1024;
/**
 * Datagrams this big go out from the sender thread: the kernel does a
 * request's work inside sendmsg, and there it overlaps with JS building
 * the next one instead of adding to it.
 */
const BACKGROUND_BYTES = 64 * 1024;
/**
 * Replies read right after a send (rtnetlink answers inside sendmsg) in a
 * row before one is left to the event loop, so a loop of awaited
 * requests cannot starve timers and I/O.
 */
const MAX_SYNC_READS = 64;
/**
 * Datagrams are read into one slab, handed to decoders as views: no Buffer
 * of its own per read (an allocation and GC pressure per request), and
 * every Buffer the engine sees has one shape. Decoders copy what they keep
 * and nothing holds a view past the dispatch of the read that filled it,
 * so the slab is reused from the start when it fills up (fresh memory
 * would cost a page fault per 4 KiB read). The native side reads while
 * 256 KiB of room is left.
 */
const SLAB_BYTES = 2 * 1024 * 1024;
const SLAB_MIN_ROOM = 256 * 1024 + 4096;
/**
 * Bytes read per event-loop wake-up, so a big dump does not hold up
 * timers and I/O, and a paused stream is not handed more than this.
 */
const READ_BYTES_PER_WAKEUP = 1024 * 1024;
/**
 * Bytes read right after sending a dump, before leaving the rest to the
 * event loop: the kernel makes the next part of a dump as we read, so a
 * dump of a few thousand objects is read without waiting for the loop.
 */
const READ_BYTES_AFTER_SEND = 4 * 1024 * 1024;
/** A dump type whose last dump was at least this big is read by the sender thread (readAhead). */
const BIG_DUMP_BYTES = 512 * 1024;

/**
 * The slab and the [length, nsid] array are shared by every socket of this
 * thread: a read and the dispatch of what it read are synchronous (nothing
 * they call reads another socket before returning), so two never
 * interleave, and 10k short-lived handles do not make 10k slabs.
 */
const reading = { slab: undefined as Buffer | undefined, pos: 0, meta: new Int32Array(2 * 1024) };

function align8(n: number): number {
  return (n + 7) & ~7;
}

export class NetlinkClient {
  readonly protocol: number;
  private readonly socket: NativeNetlinkSocket;
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private readonly waitingDumps: Pending[] = [];
  /** Batches sent and not finished: their messages' seqs are ranges, not pending entries. */
  private readonly batches: Pending[] = [];
  /** Per datagram handed to the sender thread and not yet reported: the requests in it. */
  private readonly backgroundJobs: Pending[][] = [];
  private backgroundHead = 0;
  private syncReads = 0;
  /**
   * Requests in flight other than batches: while there are none, only
   * ACKs and errors are owed (small datagrams, read many per syscall).
   */
  private plainInFlight = 0;
  private unrefScheduled = false;
  /** Message types whose last dump was big (see SendOptions.readAhead). */
  private readonly bigDumps = new Set<number>();
  /** The seq counter has wrapped: seqs may collide with ones still owed. */
  private wrapped = false;
  private activeDump: Pending | null = null;
  private seq = 0;
  private inflightCost = 0;
  private readonly windowCost: number;
  private readonly maxSendBytes: number;
  private flushScheduled = false;
  private referenced = false;
  private holds = 0;
  private pauseRequested = false;
  private paused = false;
  private closed = false;
  private readonly options: ClientOptions;
  private readonly ownPortId: number;

  constructor(options: ClientOptions) {
    this.options = options;
    this.protocol = options.protocol;
    this.socket = new native.NetlinkSocket(
      options.protocol,
      options.netnsFd ?? -1,
      () => {
        this.syncReads = 0; // the event loop has run
        this.readAvailable(READ_BYTES_PER_WAKEUP, 0);
      },
      (error) => this.onSocketError(error),
      (errors) => this.onSent(errors),
    );
    this.ownPortId = this.socket.portId();
    try {
      this.socket.unref();
      // Best effort: an option the kernel lacks must not make the socket unusable.
      this.trySetOption(SOL_NETLINK, NETLINK_EXT_ACK, 1);
      this.trySetOption(SOL_NETLINK, NETLINK_CAP_ACK, 1);
      if (options.strictCheck) this.trySetOption(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
      const rcvbuf = options.receiveBufferSize ?? DEFAULT_RCVBUF;
      if (!this.trySetOption(SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)) this.trySetOption(SOL_SOCKET, SO_RCVBUF, rcvbuf);
      if (!this.trySetOption(SOL_SOCKET, SO_SNDBUFFORCE, SNDBUF)) this.trySetOption(SOL_SOCKET, SO_SNDBUF, SNDBUF);
      // getsockopt reports what the kernel accounts against (twice what was asked).
      const granted = this.socket.getOption(SOL_SOCKET, SO_RCVBUF);
      this.windowCost = Math.max(DUMP_COST + REPLY_COST, Math.floor(granted * 0.5));
      this.maxSendBytes = Math.min(MAX_SEND_BYTES, this.socket.getOption(SOL_SOCKET, SO_SNDBUF) - 4096);
    } catch (error) {
      this.socket.close();
      throw error;
    }
  }

  /** The kernel-assigned port id of the socket. */
  get portId(): number {
    return this.ownPortId;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Raw socket access for subscribers (monitor): groups, options. */
  setOption(level: number, name: number, value: number): void {
    if (this.closed) throw closedError('socket');
    this.socket.setOption(level, name, value);
  }

  getOption(level: number, name: number): number {
    if (this.closed) throw closedError('socket');
    return this.socket.getOption(level, name);
  }

  private trySetOption(level: number, name: number, value: number): boolean {
    try {
      this.socket.setOption(level, name, value);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Keeps the process alive while something (a monitor) waits for
   * notifications; release() undoes one hold.
   */
  hold(): void {
    this.holds++;
    this.updateRef();
  }

  release(): void {
    if (this.holds > 0) this.holds--;
    this.updateRef();
  }

  /**
   * Asks to stop reading, so a slow stream consumer leaves a dump's data in
   * the kernel. Reading goes on regardless while any other request waits,
   * or a consumer that awaits another call on this socket would deadlock.
   */
  pauseReading(): void {
    this.pauseRequested = true;
    this.applyPause();
  }

  resumeReading(): void {
    this.pauseRequested = false;
    this.applyPause();
    // What the sender thread read meanwhile is not announced again.
    queueMicrotask(() => {
      if (!this.paused && !this.closed) this.readAvailable(READ_BYTES_PER_WAKEUP, 0);
    });
  }

  private applyPause(): void {
    if (this.closed) return;
    const pause =
      this.pauseRequested &&
      this.pending.size <= 1 &&
      this.queue.length === this.queueHead &&
      this.waitingDumps.length === 0;
    if (pause === this.paused) return;
    this.paused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }

  /**
   * Sends one message (its header's seq is stamped here) and resolves when
   * the kernel has answered it completely: ACK, error, or NLMSG_DONE.
   * Replies other than those go to options.onReply as they arrive.
   */
  send(message: Buffer, options: SendOptions = {}): Promise<SendResult> {
    if (this.closed) return Promise.reject(closedError());
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (message.length < NLMSG_HDRLEN || message.readUInt32LE(0) !== message.length) {
      return Promise.reject(new TypeError('send(): message must be one whole netlink message'));
    }
    return new Promise<SendResult>((resolve, reject) => {
      const dump = options.dump ?? false;
      const req: Pending = {
        bytes: message,
        seq: 0,
        dump,
        cost: options.replyBytes ?? (dump ? DUMP_COST : options.onReply ? REPLY_COST : ACK_COST),
        operation: options.operation ?? this.operationName(message.readUInt16LE(4)),
        onReply: options.onReply,
        resolve,
        reject,
        state: 0,
        settled: false,
        interrupted: false,
        plain: false,
        singleReply: !dump && options.singleReply === true,
        readAhead: dump && options.readAhead === true,
        bytesSeen: 0,
      };
      if (signal) {
        req.signal = signal;
        req.onAbort = () => this.abort(req);
        signal.addEventListener('abort', req.onAbort, { once: true });
      }
      if (dump) this.waitingDumps.push(req);
      else this.queue.push(req);
      this.updateRef();
      this.scheduleFlush();
    });
  }

  /**
   * Sends several messages as one datagram (the kernel's unit of a
   * transaction, e.g. an nfnetlink batch), each stamped with its own seq
   * and NLM_F_ACK, and resolves what the kernel said about each, in order.
   * The datagram goes out alone, never packed with other requests; a
   * no-op message with NLM_F_ACK follows it in a datagram of its own, so
   * that its ACK marks the end of the batch's answers even when the
   * kernel leaves some messages unanswered. Rejects only when the batch
   * could not be sent (closed, aborted, send error).
   */
  sendBatch(messages: Buffer[], options: BatchOptions = {}): Promise<BatchOutcome[]> {
    let total = 0;
    for (const m of messages) {
      if (m.length < NLMSG_HDRLEN || m.readUInt32LE(0) !== m.length || m.length % 4 !== 0) {
        return Promise.reject(new TypeError('sendBatch(): every message must be one whole, aligned netlink message'));
      }
      total += m.length;
    }
    if (messages.length === 0) return Promise.resolve([]);
    const operations = messages.map((m, i) => options.operations?.[i] ?? this.operationName(m.readUInt16LE(4)));
    return this.queueBatch(Buffer.concat(messages, total), messages.length, operations, options).then(
      ({ answered, errors }) =>
        messages.map((_, i) => {
          const outcome: BatchOutcome = { answered: answered[i] === 1 };
          const error = errors.get(i);
          if (error) outcome.error = error;
          return outcome;
        }),
    );
  }

  /**
   * sendBatch for bulk work: `bytes` holds `count` whole, aligned messages
   * back to back (they are stamped in place), and the outcome is compact.
   * `operation` names them all in errors (default: from the first's type).
   */
  sendBulk(
    bytes: Buffer,
    count: number,
    options: { signal?: AbortSignal; operation?: string } = {},
  ): Promise<BulkOutcome> {
    let off = 0;
    for (let i = 0; i < count; i++) {
      const len = off + NLMSG_HDRLEN <= bytes.length ? bytes.readUInt32LE(off) : 0;
      if (len < NLMSG_HDRLEN || len % 4 !== 0) break;
      off += len;
    }
    if (count === 0) return Promise.resolve({ answered: new Uint8Array(0), errors: new Map() });
    if (off !== bytes.length) {
      return Promise.reject(new TypeError(`sendBulk(): bytes must hold exactly ${count} whole, aligned messages`));
    }
    return this.queueBatch(bytes, count, options.operation ?? this.operationName(bytes.readUInt16LE(4)), options);
  }

  private queueBatch(
    bytes: Buffer,
    count: number,
    operations: string[] | string,
    options: { signal?: AbortSignal; onReply?: BatchOptions['onReply'] },
  ): Promise<BulkOutcome> {
    if (this.closed) return Promise.reject(closedError());
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<BulkOutcome>((resolve, reject) => {
      const batch: BatchState = {
        count,
        firstSeq: 0,
        operations,
        answered: new Uint8Array(count),
        errors: new Map(),
        onReply: options.onReply,
      };
      const req: Pending = {
        bytes,
        seq: 0,
        dump: false,
        cost: ACK_COST * (count + 1),
        operation: typeof operations === 'string' ? operations : operations[0],
        resolve: () => resolve({ answered: batch.answered, errors: batch.errors }),
        reject,
        state: 0,
        settled: false,
        interrupted: false,
        batch,
        plain: false,
        singleReply: false,
        readAhead: false,
        bytesSeen: 0,
      };
      if (signal) {
        req.signal = signal;
        req.onAbort = () => this.abort(req);
        signal.addEventListener('abort', req.onAbort, { once: true });
      }
      this.queue.push(req);
      this.updateRef();
      this.scheduleFlush();
    });
  }

  /**
   * Stops delivering replies of a request the caller no longer wants (an
   * early `break` from a stream). Its replies are still drained, so the
   * socket stays in step with the kernel.
   */
  abandon(message: Buffer): void {
    for (const req of this.pending.values()) {
      if (req.bytes === message) {
        req.onReply = undefined;
        return;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const error = closedError();
    const all = [...this.pending.values(), ...this.queue.slice(this.queueHead), ...this.waitingDumps];
    this.pending.clear();
    this.plainInFlight = 0;
    this.batches.length = 0;
    this.backgroundJobs.length = 0;
    this.backgroundHead = 0;
    this.queue.length = 0;
    this.queueHead = 0;
    this.waitingDumps.length = 0;
    this.activeDump = null;
    for (const req of all) this.settle(req, error);
    this.socket.close();
  }

  private operationName(type: number): string {
    return this.options.operationName?.(type) ?? `message type ${type}`;
  }

  private abort(req: Pending): void {
    if (req.settled) return;
    if (req.state === 0) {
      req.state = 2; // skipped at flush
      if (req.dump) {
        const i = this.waitingDumps.indexOf(req);
        if (i !== -1) this.waitingDumps.splice(i, 1);
      }
    }
    // A request already sent stays pending until the kernel answers, so
    // the window and the one-dump rule stay true; only the caller is freed.
    this.settle(req, abortError(req.signal));
    this.updateRef();
  }

  private settle(req: Pending, error?: Error): void {
    if (req.settled) return;
    req.settled = true;
    if (req.onAbort) req.signal?.removeEventListener('abort', req.onAbort);
    if (error) req.reject(error);
    else req.resolve({ interrupted: req.interrupted });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    // Requests made in the same tick go out together.
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private nextSeq(): number {
    this.advanceSeq();
    // A reply for an old request with this seq may still be owed; skip it.
    while (this.wrapped && (this.pending.has(this.seq) || this.batchFor(this.seq))) this.advanceSeq();
    return this.seq;
  }

  private advanceSeq(): void {
    if (this.seq >= 0xfffffffe) {
      this.seq = 1;
      this.wrapped = true;
    } else this.seq++;
  }

  /** `n` consecutive seqs owed to nobody; returns the first. */
  private allocateSeqs(n: number): number {
    for (;;) {
      if (this.seq + n >= 0xfffffffe) {
        this.seq = 0;
        this.wrapped = true;
      }
      const first = this.seq + 1;
      this.seq += n;
      if (!this.wrapped || !this.seqsBusy(first, n)) return first;
    }
  }

  private seqsBusy(first: number, n: number): boolean {
    for (const b of this.batches) {
      const s = b.batch!.firstSeq;
      if (s < first + n && first < s + b.batch!.count) return true;
    }
    if (this.pending.size < n) {
      for (const seq of this.pending.keys()) if (seq >= first && seq < first + n) return true;
      return false;
    }
    for (let seq = first; seq < first + n; seq++) if (this.pending.has(seq)) return true;
    return false;
  }

  /** The sent batch one of whose messages carries `seq`. */
  private batchFor(seq: number): Pending | undefined {
    for (let i = 0; i < this.batches.length; i++) {
      const b = this.batches[i];
      const k = seq - b.batch!.firstSeq;
      if (k >= 0 && k < b.batch!.count) return b;
    }
    return undefined;
  }

  /** Sends what fits in the window, in as few sendmsg calls as possible. */
  private flush(): void {
    let iov: Buffer[] = [];
    let bytes = 0;
    let batch: Pending[] = [];
    let sentNow = false;
    // Single-reply requests sent now, while every one sent now is one: then
    // that many datagrams answer them, and reading stops there instead of
    // asking the socket once more only to hear it is empty.
    let singleAnswers = 0;
    let onlySingle = true;
    const sendBatch = () => {
      if (iov.length === 0) return;
      const items = batch;
      const buffers = iov;
      const size = bytes;
      iov = [];
      batch = [];
      bytes = 0;
      try {
        // Once one datagram goes to the thread, the rest follow it there, in order.
        if (size >= BACKGROUND_BYTES || this.backgroundJobs.length > this.backgroundHead) {
          this.socket.sendInBackground(buffers);
          this.backgroundJobs.push(items);
        } else {
          this.socket.send(buffers);
          sentNow = true;
          for (const req of items) {
            if (req.singleReply) singleAnswers++;
            else onlySingle = false;
          }
        }
      } catch (error) {
        for (const req of items) this.finish(req, error as Error);
      }
    };
    const take = (req: Pending): boolean => {
      if (req.state === 2) return true;
      if (this.inflightCost + req.cost > this.windowCost && this.pending.size > 0) return false;
      if (req.batch) {
        takeBatch(req, req.batch);
        return true;
      }
      if (iov.length >= MAX_IOV || bytes + req.bytes.length > this.maxSendBytes) sendBatch();
      req.seq = this.nextSeq();
      req.bytes.writeUInt32LE(req.seq, 8);
      // Always ask for an ACK: a request the kernel drops without one
      // (e.g. a dump too short for its header) would otherwise never
      // settle. A dump that starts is never ACKed, so this costs nothing.
      // A single-reply request is done at its one answer instead.
      const flags = req.bytes.readUInt16LE(6);
      req.bytes.writeUInt16LE(req.singleReply ? flags & ~NLM_F_ACK : flags | NLM_F_ACK, 6);
      req.state = 1;
      req.plain = true;
      this.plainInFlight++;
      this.pending.set(req.seq, req);
      this.inflightCost += req.cost;
      if (req.readAhead && this.bigDumps.has(req.bytes.readUInt16LE(4))) {
        sendBatch(); // what came before goes first
        try {
          this.socket.sendInBackground([req.bytes], req.seq);
          this.backgroundJobs.push([req]);
        } catch (error) {
          this.finish(req, error as Error);
        }
        return true;
      }
      iov.push(req.bytes);
      batch.push(req);
      bytes += req.bytes.length;
      return true;
    };
    const takeBatch = (req: Pending, state: BatchState) => {
      sendBatch(); // what came before goes in its own datagram
      // The messages take consecutive seqs, then the fence: its ACK comes
      // after every answer the batch will get.
      const first = this.allocateSeqs(state.count + 1);
      const buf = req.bytes;
      for (let i = 0, off = 0; i < state.count; i++) {
        buf.writeUInt32LE(first + i, off + 8);
        buf.writeUInt16LE(buf.readUInt16LE(off + 6) | NLM_F_ACK, off + 6);
        off += buf.readUInt32LE(off);
      }
      state.firstSeq = first;
      const fence = Buffer.alloc(NLMSG_HDRLEN);
      fence.writeUInt32LE(NLMSG_HDRLEN, 0);
      fence.writeUInt16LE(NLMSG_NOOP, 4);
      fence.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK, 6);
      req.seq = first + state.count;
      fence.writeUInt32LE(req.seq, 8);
      this.pending.set(req.seq, req);
      this.batches.push(req);
      req.state = 1;
      this.inflightCost += req.cost;
      iov.push(req.bytes);
      batch.push(req);
      bytes += req.bytes.length;
      sendBatch();
      if (req.settled) return; // the send failed
      iov.push(fence);
      batch.push(req);
      sendBatch();
    };
    while (!this.closed) {
      if (this.activeDump === null && this.waitingDumps.length > 0) {
        const dump = this.waitingDumps[0];
        if (!take(dump)) break;
        this.waitingDumps.shift();
        if (dump.state === 1) this.activeDump = dump;
        continue;
      }
      if (this.queueHead >= this.queue.length) break;
      if (!take(this.queue[this.queueHead])) break;
      this.queueHead++;
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    sendBatch();
    // The replies are there already: rtnetlink answers inside sendmsg.
    // Not too many times in a row, so a loop of awaited requests cannot
    // starve timers and I/O.
    if (sentNow && this.syncReads < MAX_SYNC_READS) {
      this.syncReads++;
      this.readAvailable(READ_BYTES_AFTER_SEND, onlySingle ? singleAnswers : 0);
    }
  }

  /**
   * Reads and dispatches what is waiting, up to `budget` bytes (or, when
   * maxDatagrams > 0, that many datagrams), stopping early when paused.
   */
  private readAvailable(budget: number, maxDatagrams: number): void {
    const meta = reading.meta;
    while (!this.paused && !this.closed && budget > 0) {
      if (!reading.slab) reading.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      if (reading.slab.length - reading.pos < SLAB_MIN_ROOM) reading.pos = 0;
      const slab = reading.slab;
      const start = reading.pos;
      const smallReplies = this.plainInFlight === 0 && !this.options.onNotification;
      const got = this.socket.readInto(slab, start, meta, maxDatagrams, smallReplies);
      const count = typeof got === 'number' ? got : got[0];
      let bytes = 0;
      for (let i = 0; i < 2 * count; i += 2) bytes += meta[i];
      reading.pos = align8(start + bytes);
      if (count > 0) this.onData(slab, meta, start, count);
      if (typeof got !== 'number' && !this.closed) this.onSocketError(got[1]);
      if (count === 0 || maxDatagrams > 0) return;
      budget -= bytes;
    }
  }

  /** The sender thread's report on the datagrams it sent, in order. */
  private onSent(errors: (NodeJS.ErrnoException | null)[]): void {
    for (const error of errors) {
      if (this.backgroundHead >= this.backgroundJobs.length) return; // closed meanwhile
      const items = this.backgroundJobs[this.backgroundHead++];
      if (error) for (const req of items) this.finish(req, error);
    }
    if (this.backgroundHead === this.backgroundJobs.length) {
      this.backgroundJobs.length = 0;
      this.backgroundHead = 0;
    }
    if (!this.closed) this.scheduleFlush();
  }

  /** Datagrams back to back in data from `start`; meta has [length, nsid] for each of `count`. */
  private onData(data: Buffer, meta: Int32Array, start = 0, count = meta.length / 2): void {
    for (let i = 0; i < 2 * count; i += 2) {
      const end = start + meta[i];
      const nsid = meta[i + 1];
      // The messages of one datagram, walked here rather than through a
      // callback: a batch's ACKs are one datagram each.
      for (let pos = start; pos + NLMSG_HDRLEN <= end;) {
        const length = data.readUInt32LE(pos);
        // A message we cannot frame: nothing after it in the datagram can be matched.
        if (length < NLMSG_HDRLEN || pos + length > end) break;
        this.onMessage(
          data,
          pos,
          data.readUInt16LE(pos + 4),
          data.readUInt16LE(pos + 6),
          data.readUInt32LE(pos + 8),
          length,
          nsid,
        );
        pos += align4(length);
      }
      start = end;
    }
    if (!this.closed) this.scheduleFlush();
  }

  private onMessage(
    buf: Buffer,
    off: number,
    type: number,
    flags: number,
    seq: number,
    length: number,
    nsid: number,
  ): void {
    // Replies carry our port id. A notification carries the port id (and
    // seq) of whoever caused the change, 0 for the kernel itself: telling
    // them apart by seq alone would take `ip addr add`'s notification for
    // a reply to some request of ours.
    // Port ids are per namespace: a message from another one (it carries an
    // nsid) is never a reply, even when its sender's port id equals ours.
    const ours = nsid < 0 && buf.readUInt32LE(off + 12) === this.ownPortId;
    let req = ours && seq !== 0 ? this.pending.get(seq) : undefined;
    if (req === undefined && ours && seq !== 0 && this.batches.length > 0) req = this.batchFor(seq);
    if (!req) {
      if ((!ours || seq === 0) && type !== NLMSG_ERROR && type !== NLMSG_DONE) {
        this.options.onNotification?.(buf, off, length, type, flags, nsid);
      }
      return; // a late reply to something already failed (e.g. after ENOBUFS)
    }
    if (req.batch) {
      this.onBatchMessage(req, req.batch, buf, off, type, flags, seq, length);
      return;
    }
    if (type === NLMSG_ERROR) {
      const errno = length >= NLMSG_HDRLEN + 4 ? -buf.readInt32LE(off + NLMSG_HDRLEN) : 0;
      this.finish(req, errno === 0 ? undefined : this.errorFrom(buf, off, length, flags, errno, req.operation, true));
      return;
    }
    if (type === NLMSG_DONE) {
      const errno = req.dump && length >= NLMSG_HDRLEN + 4 ? -buf.readInt32LE(off + NLMSG_HDRLEN) : 0;
      if (flags & NLM_F_DUMP_INTR) req.interrupted = true;
      this.finish(req, errno === 0 ? undefined : this.errorFrom(buf, off, length, flags, errno, req.operation, false));
      return;
    }
    if (type === NLMSG_NOOP || type === NLMSG_OVERRUN) return;
    if (flags & NLM_F_DUMP_INTR) req.interrupted = true;
    req.bytesSeen += length;
    if (!req.settled && req.onReply) {
      try {
        req.onReply(buf, off, length, type, flags);
      } catch (error) {
        // The caller's decoder failed: answer it now, keep draining the rest.
        req.onReply = undefined;
        this.settle(req, error as Error);
      }
    }
    if (req.singleReply) this.finish(req);
  }

  private onBatchMessage(
    req: Pending,
    batch: BatchState,
    buf: Buffer,
    off: number,
    type: number,
    flags: number,
    seq: number,
    length: number,
  ): void {
    if (seq === req.seq) {
      // The fence's ACK: everything the kernel had to say about the batch came before it.
      if (type === NLMSG_ERROR) this.finish(req);
      return;
    }
    const i = seq - batch.firstSeq;
    if (i < 0 || i >= batch.count) return;
    if (type === NLMSG_ERROR) {
      const errno = length >= NLMSG_HDRLEN + 4 ? -buf.readInt32LE(off + NLMSG_HDRLEN) : 0;
      batch.answered[i] = 1;
      if (errno !== 0) {
        const operation = typeof batch.operations === 'string' ? batch.operations : batch.operations[i];
        batch.errors.set(i, this.errorFrom(buf, off, length, flags, errno, operation, true));
      }
      return;
    }
    if (type === NLMSG_DONE || type === NLMSG_NOOP || type === NLMSG_OVERRUN || req.settled) return;
    try {
      batch.onReply?.(i, buf, off, length, type, flags);
    } catch (error) {
      batch.onReply = undefined;
      this.settle(req, error as Error);
    }
  }

  private finish(req: Pending, error?: Error): void {
    if (req.plain) {
      req.plain = false;
      this.plainInFlight--;
    }
    if (req.batch) {
      const i = this.batches.indexOf(req);
      if (i !== -1) this.batches.splice(i, 1);
    }
    if (this.pending.get(req.seq) === req) {
      this.pending.delete(req.seq);
      this.inflightCost -= req.cost;
    }
    if (this.activeDump === req) this.activeDump = null;
    if (req.dump && !error) {
      const type = req.bytes.readUInt16LE(4);
      if (req.bytesSeen >= BIG_DUMP_BYTES) this.bigDumps.add(type);
      else this.bigDumps.delete(type);
    }
    this.settle(req, error);
    this.updateRef();
    this.scheduleFlush();
  }

  /** NetlinkError from an NLMSG_ERROR (or an error carried in NLMSG_DONE), with its extended ACK. */
  private errorFrom(
    buf: Buffer,
    off: number,
    length: number,
    flags: number,
    errno: number,
    operation: string,
    isErrorMessage: boolean,
  ): NetlinkError {
    let tlvStart = off + NLMSG_HDRLEN + 4;
    if (isErrorMessage) {
      // struct nlmsgerr echoes the request's header, and its payload unless capped.
      const echoed = off + NLMSG_HDRLEN + 4;
      tlvStart =
        flags & NLM_F_CAPPED || echoed + 4 > off + length
          ? echoed + NLMSG_HDRLEN
          : echoed + align4(buf.readUInt32LE(echoed));
    }
    let text: string | undefined;
    const details: { offset?: number; missingType?: number; missingNestOffset?: number } = {};
    if (flags & NLM_F_ACK_TLVS && tlvStart < off + length) {
      try {
        forEachAttribute(buf, tlvStart, off + length, (type, _f, o, len) => {
          if (type === NLMSGERR_ATTR_MSG)
            text = buf.toString('utf8', o, buf.indexOf(0, o) >= 0 ? Math.min(buf.indexOf(0, o), o + len) : o + len);
          else if (type === NLMSGERR_ATTR_OFFS && len >= 4) details.offset = buf.readUInt32LE(o);
          else if (type === NLMSGERR_ATTR_MISS_TYPE && len >= 4) details.missingType = buf.readUInt32LE(o);
          else if (type === NLMSGERR_ATTR_MISS_NEST && len >= 4) details.missingNestOffset = buf.readUInt32LE(o);
        });
      } catch {
        // A malformed extended ACK still leaves the errno.
      }
    }
    if (text === undefined && details.missingType !== undefined) text = `missing attribute type ${details.missingType}`;
    return new NetlinkError(errno, operation, text, Object.keys(details).length ? details : undefined);
  }

  private onSocketError(error: NodeJS.ErrnoException): void {
    if (error.code === 'EMSGSIZE') {
      // A datagram larger than the native read's room (256 KiB; none is in
      // practice) was cut short: any request, a dump too, may have lost a reply.
      for (const req of [...this.pending.values()]) {
        this.finish(req, new NetlinkError(osConstants.errno.EMSGSIZE, req.operation, 'a reply was cut short'));
      }
    } else if (error.code === 'ENOBUFS') {
      // The kernel dropped replies it could not queue. Which ones is
      // unknowable, so every sent request that waits for an ACK or reply
      // fails now rather than hang; a dump in progress is unaffected (its
      // parts are only made when there is room).
      for (const req of [...this.pending.values()]) {
        if (req.dump) continue;
        this.finish(
          req,
          new NetlinkError(
            osConstants.errno.ENOBUFS,
            req.operation,
            'receive buffer overrun: the kernel dropped replies to this socket',
          ),
        );
      }
    }
    this.options.onSocketError?.(error);
  }

  private updateRef(): void {
    this.applyPause();
    if (this.referenced === this.isBusy() || this.closed) return;
    if (!this.referenced) {
      this.referenced = true;
      this.socket.ref();
    } else if (!this.unrefScheduled) {
      // Let go once the loop turns, not now: a loop of awaited requests
      // would toggle the handle twice per request.
      this.unrefScheduled = true;
      setImmediate(() => {
        this.unrefScheduled = false;
        if (this.closed || !this.referenced || this.isBusy()) return;
        this.referenced = false;
        this.socket.unref();
      });
    }
  }

  private isBusy(): boolean {
    return (
      this.holds > 0 || this.pending.size > 0 || this.queue.length > this.queueHead || this.waitingDumps.length > 0
    );
  }
}
