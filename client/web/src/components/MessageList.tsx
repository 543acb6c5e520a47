import { Fragment, useLayoutEffect, useRef, useState } from 'react';
import type { User } from '../../../src/index.js';
import type { useTimeline } from '../hooks.js';
import { dayLabel, placeMessages } from '../messageLayout.js';
import { MessageItem, PendingItem } from './MessageItem.js';

type TimelineView = ReturnType<typeof useTimeline>;

/** How close to the bottom (px) still counts as "at the bottom". */
const BOTTOM_SLACK = 40;

/**
 * Sticks to the bottom while the reader is there; scrolling to the top loads older history and
 * keeps what was on screen in place. While the reader is scrolled up, messages that arrive below
 * are counted in a "new messages below" marker that takes them down.
 */
export function MessageList({ timeline, me }: { timeline: TimelineView; me: User }) {
  const box = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const lastHeight = useRef(0);
  const firstSeq = timeline.messages[0]?.seq;
  const lastSeq = timeline.messages.at(-1)?.seq;
  const lastFirstSeq = useRef(firstSeq);
  const lastLastSeq = useRef(lastSeq);
  const [newBelow, setNewBelow] = useState(0);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    if (lastFirstSeq.current !== undefined && firstSeq !== undefined && firstSeq < lastFirstSeq.current) {
      // Older messages came in above: keep the same message under the reader's eyes.
      el.scrollTop += el.scrollHeight - lastHeight.current;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    } else if (lastSeq !== undefined && lastLastSeq.current !== undefined && lastSeq > lastLastSeq.current) {
      const arrived = timeline.messages.filter((m) => m.seq > lastLastSeq.current! && m.author.id !== me.id).length;
      if (arrived > 0) setNewBelow((n) => n + arrived);
    }
    lastFirstSeq.current = firstSeq;
    lastLastSeq.current = lastSeq;
    lastHeight.current = el.scrollHeight;
  });

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK;
    if (atBottom.current && newBelow > 0) setNewBelow(0);
    if (el.scrollTop < 60 && timeline.hasOlder && !timeline.loadingOlder) void timeline.loadOlder();
  };
  const toBottom = () => {
    const el = box.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setNewBelow(0);
  };

  const placed = placeMessages(timeline.messages);
  return (
    <div className="messages-wrap">
      <div className="messages" ref={box} onScroll={onScroll} data-testid="messages">
        {timeline.hasOlder && (
          <button type="button" className="load-older link" onClick={() => void timeline.loadOlder()} disabled={timeline.loadingOlder}>
            {timeline.loadingOlder ? 'Loading…' : 'Load earlier messages'}
          </button>
        )}
        {timeline.trimmedBefore > 0 && !timeline.hasOlder && (
          <p className="muted center" data-testid="trimmed">
            Earlier messages were removed by the server's retention policy.
          </p>
        )}
        {timeline.loaded && timeline.trimmedBefore === 0 && timeline.messages.length === 0 && timeline.pending.length === 0 && <p className="muted center">No messages yet. Say hello!</p>}
        <ol className="message-items">
          {timeline.messages.map((message, i) => (
            <Fragment key={message.id}>
              {placed[i]!.dayBefore && (
                <li className="day-separator" role="separator" data-testid="day-separator" data-day={placed[i]!.dayBefore}>
                  <span>{dayLabel(placed[i]!.dayBefore!)}</span>
                </li>
              )}
              <MessageItem message={message} mine={message.author.id === me.id} continues={placed[i]!.continues} onEdit={timeline.edit} onDelete={timeline.remove} />
            </Fragment>
          ))}
          {timeline.pending.map((pending) => (
            <PendingItem key={pending.clientMessageId} pending={pending} onRetry={() => timeline.send(pending.body, pending.clientMessageId)} onDiscard={() => timeline.discard(pending.clientMessageId)} />
          ))}
        </ol>
      </div>
      {newBelow > 0 && (
        <button type="button" className="new-below" data-testid="new-messages" onClick={toBottom}>
          {newBelow === 1 ? '1 new message' : `${newBelow} new messages`} below ↓
        </button>
      )}
    </div>
  );
}
