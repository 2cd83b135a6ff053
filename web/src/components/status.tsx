/**
 * Status shown by shape and word as well as colour (WCAG 1.4.1): a check
 * mark, a triangle, a cross or a question mark, and the status in text.
 */
import type { Status } from '../api';

const WORD: Record<Status, string> = { HEALTHY: 'Healthy', DEGRADED: 'Degraded', UNHEALTHY: 'Unhealthy', UNKNOWN: 'Unknown' };

export function statusWord(status: Status): string {
  return WORD[status];
}

export function statusClass(status: Status): string {
  return `st-${status.toLowerCase()}`;
}

/** The shape of a status, 1em square, hidden from screen readers (the word says it). */
export function StatusIcon({ status }: { status: Status }) {
  return (
    <svg class={`st-icon ${statusClass(status)}`} viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
      {status === 'HEALTHY' && (
        <>
          <circle cx="8" cy="8" r="8" />
          <path d="M4.5 8.3l2.3 2.3 4.7-4.9" fill="none" stroke="var(--on-status)" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
        </>
      )}
      {status === 'DEGRADED' && (
        <>
          <path d="M8 1l7.5 13.5H.5z" />
          <path d="M8 6v4M8 12.2v.1" stroke="var(--on-status)" stroke-width="1.8" stroke-linecap="round" />
        </>
      )}
      {status === 'UNHEALTHY' && (
        <>
          <rect x="0.5" y="0.5" width="15" height="15" rx="3" />
          <path d="M5 5l6 6M11 5l-6 6" stroke="var(--on-status)" stroke-width="2" stroke-linecap="round" />
        </>
      )}
      {status === 'UNKNOWN' && (
        <>
          <circle cx="8" cy="8" r="7.25" fill="none" stroke="currentColor" stroke-width="1.5" />
          <path d="M6 6.2a2 2 0 1 1 2.8 1.8c-.6.3-.8.7-.8 1.3M8 11.8v.1" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" />
        </>
      )}
    </svg>
  );
}

/** Icon and word, e.g. for a table cell. */
export function StatusLabel({ status, compact = false }: { status: Status; compact?: boolean }) {
  return (
    <span class={`st ${statusClass(status)}`} data-status={status}>
      <StatusIcon status={status} />
      {compact ? <span class="visually-hidden">{WORD[status]}</span> : <span>{WORD[status]}</span>}
    </span>
  );
}
