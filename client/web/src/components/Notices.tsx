import type { ShownNotice } from '../hooks.js';

export function Notices({ notices, onDismiss }: { notices: ShownNotice[]; onDismiss: (id: number) => void }) {
  if (notices.length === 0) return null;
  return (
    <div className="notices" role="alert">
      {notices.map((notice) => (
        <div key={notice.id} className={`notice notice-${notice.kind.toLowerCase()}`} data-testid="notice" data-kind={notice.kind}>
          <span>{notice.message}</span>
          <button type="button" className="link" aria-label="Dismiss" onClick={() => onDismiss(notice.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
