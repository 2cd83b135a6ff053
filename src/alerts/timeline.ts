import { MAX_TIMELINE, type AlertRecord, type TimelineEntry } from './types.js';

/**
 * Append to an alert's timeline, keeping the first entry (how it began) and
 * the newest MAX_TIMELINE - 1 once it is full.
 */
export function addEntry(record: AlertRecord, entry: TimelineEntry): void {
  record.timeline.push(entry);
  if (record.timeline.length > MAX_TIMELINE) record.timeline.splice(1, record.timeline.length - MAX_TIMELINE);
  record.updatedAt = Math.max(record.updatedAt, entry.at);
}

/** Where alert changes go: the timeline and the store (batched by the engine). */
export interface AlertJournal {
  /** Add a timeline entry and mark the alert changed. */
  note(record: AlertRecord, entry: TimelineEntry): void;
  /** Mark the alert changed (saved at the next store flush). */
  changed(record: AlertRecord): void;
}
