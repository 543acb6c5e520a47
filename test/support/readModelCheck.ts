/**
 * Every node's read models against the log (README, "Consistency"): the log (`roomEvents`, a raw
 * replay from the event store) is the truth, and what a node answers from its read models —
 * history (`messages`, paged through to the end), the room list (`rooms`) and each room's view
 * (`room(id)`) — must say exactly the same once the writes are over. A read may answer UNAVAILABLE
 * while the read models are being rebuilt (it must never answer short instead): such a read is
 * retried, within a bound, and counted.
 */
import { http, sleep, type GqlError } from './gql.js';

/** A room as both sides are compared: the fields a stale or partial read model would get wrong. */
interface RoomFacts {
  id: string;
  name: string;
  private: boolean;
  headSeq: number;
  oldestSeq: number;
  memberCount: number;
}

interface LoggedRoom extends RoomFacts {
  /** History as the log says, ascending seq, one key per message (messageKey). */
  messages: string[];
}

export interface ReadModelComparison {
  /** Nodes compared, rooms per node, messages per node. */
  nodes: number;
  rooms: number;
  messages: number;
  /** Reads answered UNAVAILABLE (rebuilding) and asked again. */
  retried: number;
  /** Every difference, as "<node> <what>: got … expected …"; empty when every node matches the log. */
  mismatches: string[];
}

const ROOM_FIELDS = 'id name private headSeq oldestSeq memberCount';
const MESSAGE_FIELDS = 'id seq clientMessageId body deleted editedAt author { id }';
const PAGE = 200; // the largest `limit` messages and roomEvents accept here

const LOG_PAGE = `query Log($roomId: ID!, $afterSeq: Int, $limit: Int) {
  roomEvents(roomId: $roomId, afterSeq: $afterSeq, limit: $limit) { __typename seq
    ... on RoomCreated { name private }
    ... on MessagePosted { message { id clientMessageId body author { id } } }
    ... on MessageEdited { messageId body }
    ... on MessageDeleted { messageId }
    ... on HistoryTrimmed { beforeSeq } } }`;

interface LogEvent {
  __typename: string;
  seq: number;
  name?: string;
  private?: boolean;
  message?: { id: string; clientMessageId: string; body: string; author: { id: string } };
  messageId?: string;
  body?: string;
  beforeSeq?: number;
}

interface MessageFacts {
  id: string;
  seq: number;
  clientMessageId: string;
  body: string;
  deleted: boolean;
  edited: boolean;
  authorId: string;
}

const messageKey = (m: MessageFacts) => `${m.seq}:${m.id}:${m.clientMessageId}:${m.authorId}:${m.deleted ? '(deleted)' : m.body}${m.edited ? ':edited' : ''}`;
const roomKey = (r: RoomFacts) => `${r.id} "${r.name}"${r.private ? ' private' : ''} head ${r.headSeq} oldest ${r.oldestSeq} members ${r.memberCount}`;

/**
 * One GraphQL read, asked again (every 200 ms, until `deadline`) while it answers UNAVAILABLE;
 * any other error, or still UNAVAILABLE at the deadline, is thrown with the node's words.
 */
async function read<T>(url: string, token: string, query: string, variables: Record<string, unknown>, deadline: number, onRetry: () => void): Promise<T> {
  for (;;) {
    const response = await http<T>(url, query, variables, token);
    const errors: GqlError[] = response.errors ?? [];
    if (!errors.length && response.data) return response.data;
    const rebuilding = errors.length > 0 && errors.every((e) => e.extensions?.code === 'UNAVAILABLE');
    if (!rebuilding || Date.now() > deadline) throw new Error(`HTTP ${response.status}: ${response.text.slice(0, 300)}`);
    onRetry();
    // The node said it is rebuilding and when to ask again; this is that wait.
    await sleep(200);
  }
}

/** Folds a room's raw log into what its read models must say (edits, deletes and trims applied). */
function foldLog(roomId: string, log: LogEvent[]): LoggedRoom {
  const created = log[0];
  if (created?.__typename !== 'RoomCreated') throw new Error(`room ${roomId}: the log does not start with RoomCreated (${created?.__typename ?? 'empty'})`);
  const room: RoomFacts = { id: roomId, name: created.name!, private: created.private!, headSeq: 0, oldestSeq: 1, memberCount: 0 };
  const messages = new Map<string, MessageFacts>();
  for (const event of log) {
    room.headSeq = Math.max(room.headSeq, event.seq);
    if (event.__typename === 'MemberJoined') room.memberCount++;
    else if (event.__typename === 'MemberLeft') room.memberCount--;
    else if (event.__typename === 'MessagePosted') {
      const m = event.message!;
      messages.set(m.id, { id: m.id, seq: event.seq, clientMessageId: m.clientMessageId, body: m.body, deleted: false, edited: false, authorId: m.author.id });
    } else if (event.__typename === 'MessageEdited') {
      const m = messages.get(event.messageId!);
      if (m && !m.deleted) Object.assign(m, { body: event.body!, edited: true });
    } else if (event.__typename === 'MessageDeleted') {
      const m = messages.get(event.messageId!);
      if (m) Object.assign(m, { body: '', deleted: true });
    } else if (event.__typename === 'HistoryTrimmed') {
      room.oldestSeq = Math.max(room.oldestSeq, event.beforeSeq!);
      for (const [id, m] of messages) if (m.seq < event.beforeSeq!) messages.delete(id);
    }
  }
  return { ...room, messages: [...messages.values()].sort((a, b) => a.seq - b.seq).map(messageKey) };
}

/** A room's whole log, paged through `roomEvents`. */
async function readWholeLog(url: string, token: string, roomId: string, deadline: number, onRetry: () => void): Promise<LogEvent[]> {
  const all: LogEvent[] = [];
  for (let after = 0; ; ) {
    const page = await read<{ roomEvents: LogEvent[] }>(url, token, LOG_PAGE, { roomId, afterSeq: after, limit: PAGE }, deadline, onRetry);
    all.push(...page.roomEvents);
    if (page.roomEvents.length < PAGE) return all;
    after = page.roomEvents.at(-1)!.seq;
  }
}

/** A room's whole history on one node, paged oldest first through `messages(after:)`. */
async function readWholeHistory(url: string, token: string, roomId: string, deadline: number, onRetry: () => void): Promise<string[]> {
  type Row = { id: string; seq: number; clientMessageId: string; body: string; deleted: boolean; editedAt: string | null; author: { id: string } };
  const all: string[] = [];
  for (let after = 0; ; ) {
    const page = await read<{ messages: Row[] }>(
      url,
      token,
      `query History($roomId: ID!, $after: Int, $limit: Int) { messages(roomId: $roomId, after: $after, limit: $limit) { ${MESSAGE_FIELDS} } }`,
      { roomId, after, limit: PAGE },
      deadline,
      onRetry,
    );
    all.push(...page.messages.map((m) => messageKey({ ...m, edited: m.editedAt !== null, authorId: m.author.id })));
    if (page.messages.length < PAGE) return all;
    after = page.messages.at(-1)!.seq;
  }
}

/** The first place two key lists part, for a message that shows where a history went wrong. */
function firstDifference(got: string[], expected: string[]): string {
  const at = got.findIndex((key, i) => key !== expected[i]);
  const i = at === -1 ? Math.min(got.length, expected.length) : at;
  return `${got.length} messages, expected ${expected.length}; first difference at #${i}: got ${got[i] ?? '(none)'}, expected ${expected[i] ?? '(none)'}`;
}

/**
 * Compares, on every node in `nodes`, the room list, each room's view and each room's whole
 * history with the log. `roomIds` must be every room of the cluster (the room list is compared as
 * a whole: it must list exactly the public ones); `token` a session that may read them all.
 * The log is read once, through the first node (the nodes share one event store).
 */
export async function compareReadModelsWithLog(options: {
  nodes: Array<{ url: string; name: string }>;
  token: string;
  roomIds: string[];
  /** Bound on the retries of reads answered UNAVAILABLE, for the whole comparison. */
  timeoutMs?: number;
}): Promise<ReadModelComparison> {
  const { nodes, token, roomIds } = options;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let retried = 0;
  const onRetry = () => void retried++;
  const truth = new Map<string, LoggedRoom>();
  for (const roomId of roomIds) truth.set(roomId, foldLog(roomId, await readWholeLog(nodes[0]!.url, token, roomId, deadline, onRetry)));
  const publicRooms = [...truth.values()].filter((r) => !r.private).map(roomKey).sort();

  const mismatches: string[] = [];
  for (const node of nodes) {
    const differ = (what: string, got: string, expected: string) => {
      if (got !== expected) mismatches.push(`${node.name} ${what}: got ${got.slice(0, 400)}; expected ${expected.slice(0, 400)}`);
    };
    try {
      const { rooms } = await read<{ rooms: RoomFacts[] }>(node.url, token, `{ rooms { ${ROOM_FIELDS} } }`, {}, deadline, onRetry);
      differ('rooms', rooms.map(roomKey).sort().join(' | '), publicRooms.join(' | '));
      for (const [roomId, logged] of truth) {
        const { room } = await read<{ room: RoomFacts | null }>(node.url, token, `query($id: ID!) { room(id: $id) { ${ROOM_FIELDS} } }`, { id: roomId }, deadline, onRetry);
        differ(`room(${roomId})`, room ? roomKey(room) : 'null', roomKey(logged));
        const history = await readWholeHistory(node.url, token, roomId, deadline, onRetry);
        if (history.join('\n') !== logged.messages.join('\n')) mismatches.push(`${node.name} messages(${roomId}): ${firstDifference(history, logged.messages)}`);
      }
    } catch (error) {
      mismatches.push(`${node.name}: read failed: ${(error as Error).message}`);
    }
  }
  const messages = [...truth.values()].reduce((sum, r) => sum + r.messages.length, 0);
  return { nodes: nodes.length, rooms: truth.size, messages, retried, mismatches };
}
