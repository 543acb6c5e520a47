import { useLayoutEffect, useRef } from 'react';
import type { User } from '../../../src/index.js';
import type { useTimeline } from '../hooks.js';
import { MessageItem, PendingItem } from './MessageItem.js';

type TimelineView = ReturnType<typeof useTimeline>;

/**
 * Sticks to the bottom while the reader is there; scrolling to the top loads older history and
 * keeps what was on screen in place.
 */
export function MessageList({ timeline, me }: { timeline: TimelineView; me: User }) {
  const box = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const lastHeight = useRef(0);
  const firstSeq = timeline.messages[0]?.seq;
  const lastFirstSeq = useRef(firstSeq);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    if (lastFirstSeq.current !== undefined && firstSeq !== undefined && firstSeq < lastFirstSeq.current) {
      // Older messages came in above: keep the same message under the reader's eyes.
      el.scrollTop += el.scrollHeight - lastHeight.current;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    lastFirstSeq.current = firstSeq;
    lastHeight.current = el.scrollHeight;
  });

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 60 && timeline.hasOlder && !timeline.loadingOlder) void timeline.loadOlder();
  };

  return (
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
        {timeline.messages.map((message) => (
          <MessageItem key={message.id} message={message} mine={message.author.id === me.id} onEdit={timeline.edit} onDelete={timeline.remove} />
        ))}
        {timeline.pending.map((pending) => (
          <PendingItem key={pending.clientMessageId} pending={pending} onRetry={() => timeline.send(pending.body, pending.clientMessageId)} onDiscard={() => timeline.discard(pending.clientMessageId)} />
        ))}
      </ol>
    </div>
  );
}
