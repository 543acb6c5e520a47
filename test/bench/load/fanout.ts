import { randomUUID } from 'node:crypto';
import { GqlSocket } from './gqlSocket.js';
import { createRoom, createSession, joinRoom, type Session } from './http.js';
import type { OpenSubscribersRequest, OpenSubscribersResult, PublishRequest, PublishResult } from './protocol.js';
import { Histogram, mapLimit, nowMs, sleep } from './stats.js';

const SEND = `mutation($roomId: ID!, $body: String!, $clientMessageId: ID!) {
  sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) { seq }
}`;
const ROOM_EVENTS = `subscription($roomId: ID!) {
  roomEvents(roomId: $roomId) { seq ... on MessagePosted { message { id body createdAt } } }
}`;
const SEQ_MARK = Buffer.from('"seq":');
const BENCH_MARK = Buffer.from('bench|');
const QUOTE = 0x22;

/** The decimal number at `at` (ASCII digits), or -1. */
function readInt(buf: Buffer, at: number): number {
  let n = -1;
  for (let i = at; i < buf.length; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    n = (n < 0 ? 0 : n * 10) + (c - 0x30);
  }
  return n;
}

/** One measured publish phase; deliveries are matched to it by the phase tag in the body. */
class Phase {
  readonly hist = new Histogram();
  /** One byte per (subscriber, message): distinct deliveries, so duplicates are not counted as delivered. */
  readonly seen: Uint8Array;
  delivered = 0;
  deliveredInWindow = 0;
  duplicates = 0;
  outOfOrder = 0;
  lastDeliveryAt = 0;
  windowEnd = Infinity;
  readonly lastK: Int32Array;
  /** Latency by the group of the URL the subscriber connected to (see `groups` of openSubscribers). */
  readonly byGroup: Histogram[];
  /** Arrival time per (subscriber, message), NaN until it arrives. */
  readonly arrivals: Float64Array;

  constructor(readonly tag: string, readonly subscribers: number, readonly total: number, groups: number) {
    this.seen = new Uint8Array(subscribers * total);
    this.arrivals = new Float64Array(subscribers * total).fill(NaN);
    this.lastK = new Int32Array(subscribers).fill(-1);
    this.byGroup = Array.from({ length: groups }, () => new Histogram());
  }
}

/**
 * Fan-out load: one publisher socket sends `bench|<phase>|<k>|<sentAtMs>` bodies at a fixed rate
 * (open loop, not waiting for acks); every subscriber socket timestamps each delivery on receipt.
 * With `publishers` > 1, that many members (each its own session and socket) send in turn.
 */
export class FanoutLoad {
  private readonly run = randomUUID().slice(0, 8);
  private sessions: Session[] = [];
  private publishers: GqlSocket[] = [];
  private nextPublisher = 0;
  private roomId = '';
  /** Indexed by subscriber slot; a slot whose connect failed stays empty. */
  private subscribers: (GqlSocket | undefined)[] = [];
  private slots = 0;
  private readonly probeMark = Buffer.from(`probe|${this.run}|`);
  private probeSeen = new Uint8Array(0);
  private lastSeq = new Float64Array(0);
  private groupOf = new Uint8Array(0);
  private groupCount = 1;
  private live = 0;
  private probesSent = 0;
  private seqViolations = 0;
  private subErrors = 0;
  private firstSubError: string | undefined;
  private phase: Phase | undefined;

  constructor(private readonly url: string) {}

  private get wsUrl(): string {
    return this.url.replace(/^http/, 'ws');
  }

  async prepareRoom(publishers = 1): Promise<{ roomId: string }> {
    const owner = await createSession(this.url, `bench-${this.run}-publisher`);
    this.roomId = await createRoom(this.url, owner.token, `bench-fanout-${this.run}`);
    const others = await mapLimit(Array.from({ length: publishers - 1 }, (_, i) => i + 1), 8, async (i) => {
      const member = await createSession(this.url, `bench-${this.run}-publisher-${i}`);
      await joinRoom(this.url, member.token, this.roomId);
      return member;
    });
    this.publishers = await mapLimit([owner, ...others], 8, (s) => GqlSocket.connect(this.wsUrl, s.token));
    return { roomId: this.roomId };
  }

  /** Sessions made earlier through another front of the same cluster (tokens are valid on every node). */
  adoptSessions(from: FanoutLoad): void {
    this.sessions.push(...from.sessions);
  }

  async createSessions(count: number): Promise<{ sessions: number; elapsedMs: number }> {
    const t0 = performance.now();
    const fresh = await mapLimit(Array.from({ length: count }, (_, i) => i), 16, (i) => createSession(this.url, `bench-${this.run}-sub-${i}`));
    this.sessions.push(...fresh);
    return { sessions: this.sessions.length, elapsedMs: performance.now() - t0 };
  }

  async openSubscribers(req: OpenSubscribersRequest): Promise<OpenSubscribersResult> {
    const t0 = performance.now();
    if (this.sessions.length === 0) await this.createSessions(req.count);
    const wsUrls = (req.urls?.length ? req.urls : [this.url]).map((u) => u.replace(/^http/, 'ws'));
    const groups = req.groups?.length === wsUrls.length ? req.groups : wsUrls.map((_, g) => g);
    this.groupCount = Math.max(this.groupCount, ...groups.map((g) => g + 1));
    const base = this.slots;
    this.slots += req.count;
    this.growState(this.slots);
    const liveBefore = this.live;
    let failed = 0;
    let firstError: string | undefined;
    const indexes = Array.from({ length: req.count }, (_, i) => base + i);
    await mapLimit(indexes, 100, async (i) => {
      try {
        const sock = await GqlSocket.connect(wsUrls[i % wsUrls.length]!, this.sessions[i % this.sessions.length]!.token);
        sock.onError = (reason) => this.noteSubError(reason);
        sock.subscribe('s1', ROOM_EVENTS, { roomId: this.roomId }, (frame) => this.onDelivery(i, frame));
        this.subscribers[i] = sock;
        this.groupOf[i] = groups[i % wsUrls.length]!;
      } catch (e) {
        failed++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    });
    const connectedMs = performance.now() - t0;
    const opened = req.count - failed;
    const liveAt = await this.waitLive(liveBefore + opened, req.liveTimeoutMs, req.probeIntervalMs ?? 250);
    const live = this.probeSeen.subarray(base).reduce((n, seen) => n + seen, 0);
    return { opened, failed, firstError: firstError ?? this.firstSubError, live, elapsedMs: performance.now() - t0, connectedMs, liveMs: liveAt - t0 };
  }

  /**
   * Probes until every subscriber has seen one: only then is each known to be live. Resolves with
   * when that was seen (to within the 5 ms poll), or the deadline.
   */
  private async waitLive(target: number, timeoutMs: number, probeIntervalMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    let nextProbe = 0;
    while (this.live < target && performance.now() < deadline) {
      if (performance.now() >= nextProbe) {
        // Numbered across openings: a probe's clientMessageId used again is a resend, which
        // roomlog answers without appending (nothing reaches a subscriber), and bare does not.
        const n = this.probesSent++;
        void this.send(`probe|${this.run}|${n}`, `probe-${this.run}-${n}`).catch(() => undefined);
        nextProbe = performance.now() + probeIntervalMs;
      }
      await sleep(5);
    }
    const at = performance.now();
    await sleep(300);
    return at;
  }

  async publish(req: PublishRequest): Promise<PublishResult> {
    const total = Math.max(1, Math.round((req.ratePerSecond * req.durationMs) / 1000));
    const n = this.subscribers.filter(Boolean).length;
    const phase = new Phase(`${req.phase}-${this.run}`, this.slots, total, this.groupCount);
    this.phase = phase;
    let publishErrors = 0;
    let firstError: string | undefined;
    let published = 0;
    const violationsBefore = this.seqViolations;
    const subErrorsBefore = this.subErrors;
    const acks: Promise<void>[] = [];
    const start = nowMs();
    phase.windowEnd = start + req.durationMs;
    for (let k = 0; k < total; k++) {
      const due = start + (k * 1000) / req.ratePerSecond;
      const wait = due - nowMs();
      if (wait > 1) await sleep(wait);
      acks.push(
        this.send(`bench|${phase.tag}|${k}|${nowMs().toFixed(3)}`, `${phase.tag}-${k}`).then(
          () => void published++,
          (e: unknown) => {
            publishErrors++;
            firstError ??= e instanceof Error ? e.message : String(e);
          },
        ),
      );
    }
    const lastPublishAt = nowMs();
    await Promise.race([Promise.all(acks), sleep(req.drainMs)]);
    const expected = published * n;
    const drainDeadline = lastPublishAt + req.drainMs;
    while (phase.delivered < expected && nowMs() < drainDeadline) await sleep(20);
    this.phase = undefined;
    return {
      published,
      publishErrors,
      firstError: firstError ?? this.firstSubError,
      subscribers: n,
      expected,
      deliveriesPerSecond: (phase.deliveredInWindow * 1000) / req.durationMs,
      delivered: phase.delivered,
      lost: Math.max(0, expected - phase.delivered),
      duplicates: phase.duplicates,
      seqViolations: this.seqViolations - violationsBefore,
      subscriberErrors: this.subErrors - subErrorsBefore,
      outOfOrder: phase.outOfOrder,
      latency: phase.hist.summary(),
      latencyByGroup: phase.byGroup.map((h) => h.summary()),
      relativeByGroup: req.relative ? this.relativeArrivals(phase) : undefined,
      drainMs: Math.max(0, phase.lastDeliveryAt - lastPublishAt),
      histogram: req.histogram ? phase.hist.sparse() : undefined,
    };
  }

  /** See PublishResult.relativeByGroup. */
  private relativeArrivals(phase: Phase): number[][] {
    const out: number[][] = Array.from({ length: this.groupCount }, () => []);
    const reference: number[] = [];
    for (let k = 0; k < phase.total; k++) {
      reference.length = 0;
      for (let i = 0; i < phase.subscribers; i++) {
        const at = phase.arrivals[i * phase.total + k]!;
        if (this.groupOf[i] === 0 && !Number.isNaN(at)) reference.push(at);
      }
      if (reference.length === 0) continue;
      reference.sort((a, b) => a - b);
      const ref = reference[reference.length >> 1]!;
      for (let i = 0; i < phase.subscribers; i++) {
        const at = phase.arrivals[i * phase.total + k]!;
        if (!Number.isNaN(at)) out[this.groupOf[i]!]!.push(Math.round((at - ref) * 100));
      }
    }
    return out;
  }

  /** Closes the subscribers, keeping the room, its publishers and the sessions: the next openSubscribers starts afresh. */
  closeSubscribers(): { closed: number } {
    const closed = this.subscribers.filter(Boolean).length;
    for (const s of this.subscribers) s?.close();
    this.subscribers = [];
    this.slots = 0;
    this.live = 0;
    this.probeSeen = new Uint8Array(0);
    this.lastSeq = new Float64Array(0);
    this.groupOf = new Uint8Array(0);
    return { closed };
  }

  closeAll(): { closed: number } {
    const result = this.closeSubscribers();
    for (const p of this.publishers) p.close();
    this.publishers = [];
    return result;
  }

  private async send(body: string, clientMessageId: string): Promise<void> {
    const publisher = this.publishers[this.nextPublisher++ % Math.max(1, this.publishers.length)];
    if (!publisher) throw new Error('prepareRoom first');
    const r = await publisher.operation(SEND, { roomId: this.roomId, body, clientMessageId });
    if (r.errors?.length || !r.data) throw new Error(JSON.stringify(r.errors ?? r).slice(0, 300));
  }

  private growState(size: number): void {
    const probe = new Uint8Array(size);
    probe.set(this.probeSeen);
    const seq = new Float64Array(size);
    seq.set(this.lastSeq);
    const groupOf = new Uint8Array(size);
    groupOf.set(this.groupOf);
    this.probeSeen = probe;
    this.lastSeq = seq;
    this.groupOf = groupOf;
  }

  private noteSubError(reason: string): void {
    this.subErrors++;
    this.firstSubError ??= reason;
  }

  /** The hot path: no UTF-8 decoding, no JSON.parse; byte searches for seq and the body's tag. */
  private onDelivery(i: number, frame: Buffer): void {
    const at = nowMs();
    const s = frame.indexOf(SEQ_MARK);
    if (s >= 0) {
      const seq = readInt(frame, s + SEQ_MARK.length);
      if (seq <= this.lastSeq[i]!) this.seqViolations++;
      this.lastSeq[i] = seq;
    }
    const b = frame.indexOf(BENCH_MARK);
    if (b < 0) {
      if (!this.probeSeen[i] && frame.indexOf(this.probeMark) >= 0) {
        this.probeSeen[i] = 1;
        this.live++;
      }
      return;
    }
    const phase = this.phase;
    if (!phase) return;
    const parts = frame.toString('latin1', b, frame.indexOf(QUOTE, b)).split('|');
    if (parts[1] !== phase.tag) return;
    const k = Number(parts[2]);
    const sentAt = Number(parts[3]);
    if (!(k >= 0 && k < phase.total)) return;
    const cell = i * phase.total + k;
    if (phase.seen[cell]) {
      phase.duplicates++;
      return;
    }
    phase.seen[cell] = 1;
    phase.arrivals[cell] = at;
    if (k < phase.lastK[i]!) phase.outOfOrder++;
    phase.lastK[i] = k;
    phase.delivered++;
    if (at <= phase.windowEnd) phase.deliveredInWindow++;
    phase.lastDeliveryAt = at;
    phase.hist.record(at - sentAt);
    phase.byGroup[this.groupOf[i]!]?.record(at - sentAt);
  }
}
