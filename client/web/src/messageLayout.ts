/**
 * Where a message list shows a date line and where a message continues its author's group, as
 * chat apps do: consecutive messages of one author within a few minutes share one header.
 */
export interface Placed {
  /** A date line goes before this message (its day differs from the previous message's). */
  dayBefore: string | null;
  /**
   * Same author (and under the same name: a rename in between shows the new one) as the previous
   * message, the same day, within GROUP_GAP_MS: no header of its own.
   */
  continues: boolean;
}

export const GROUP_GAP_MS = 5 * 60_000;

interface Placeable {
  author: { id: string; name: string };
  createdAt: string;
}

export function placeMessages(messages: readonly Placeable[], dayOf: (iso: string) => string = localDay): Placed[] {
  return messages.map((message, i) => {
    const previous = messages[i - 1];
    const day = dayOf(message.createdAt);
    const newDay = !previous || dayOf(previous.createdAt) !== day;
    const continues = !newDay && previous!.author.id === message.author.id && previous!.author.name === message.author.name && Date.parse(message.createdAt) - Date.parse(previous!.createdAt) < GROUP_GAP_MS;
    return { dayBefore: newDay ? day : null, continues };
  });
}

/** The calendar day of an instant in the reader's time zone (YYYY-MM-DD). */
export function localDay(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** "Today", "Yesterday", or the date written out. */
export function dayLabel(day: string, now: Date = new Date()): string {
  const today = localDay(now.toISOString());
  const yesterday = localDay(new Date(now.getTime() - 86_400_000).toISOString());
  if (day === today) return 'Today';
  if (day === yesterday) return 'Yesterday';
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d).toLocaleDateString([], { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}
