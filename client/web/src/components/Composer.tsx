import { useState, type FormEvent, type KeyboardEvent } from 'react';

/** Enter sends, Shift+Enter starts a new line. */
export function Composer({ onSend, onTyping }: { onSend: (body: string) => void; onTyping: (text: string) => void }) {
  const [text, setText] = useState('');
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const body = text.trim();
    if (body === '') return;
    onSend(body);
    setText('');
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };
  return (
    <form className="composer" onSubmit={submit}>
      <textarea
        aria-label="Message"
        placeholder="Write a message"
        rows={1}
        maxLength={4000}
        value={text}
        onKeyDown={onKeyDown}
        onChange={(e) => {
          setText(e.target.value);
          onTyping(e.target.value);
        }}
      />
      <button type="submit" disabled={text.trim() === ''}>
        Send
      </button>
    </form>
  );
}
