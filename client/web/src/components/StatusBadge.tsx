import type { ChatClient } from '../../../src/index.js';
import { useConnectionStatus } from '../hooks.js';

const LABELS = { idle: 'Online', connecting: 'Connecting…', connected: 'Online', reconnecting: 'Reconnecting…', closed: 'Offline' } as const;

/** The connection as the user sees it; "Reconnecting…" while the client waits and resumes. */
/** A banner across the page while the connection is being restored. */
export function ReconnectingBanner({ client }: { client: ChatClient }) {
  const status = useConnectionStatus(client);
  if (status !== 'reconnecting' && status !== 'closed') return null;
  return (
    <div className={`connection-banner ${status}`} data-testid="connection-banner">
      {status === 'reconnecting' ? 'Connection lost. Reconnecting… nothing you missed will be lost.' : 'Disconnected. Reload the page to reconnect.'}
    </div>
  );
}

export function StatusBadge({ client }: { client: ChatClient }) {
  const status = useConnectionStatus(client);
  return (
    <span className={`status status-${status}`} data-testid="connection-status" data-status={status} role="status" aria-live="polite">
      {LABELS[status]}
    </span>
  );
}
