/** What the API shows of a scheduled report. */
export interface ScheduleStatus {
  name: string;
  cron: string;
  type: string;
  format: string;
  /** Epoch ms of the next run (a retry when one is due), or null. */
  nextRunAt: number | null;
  /** Epoch ms the last run (or try) began, or null. */
  lastRunAt: number | null;
  lastSuccessAt: number | null;
  /** Why the last run failed (null after a success). */
  lastError: string | null;
  /** Name of the newest report file written. */
  lastFile: string | null;
  /** Report files kept in the schedule's folder. */
  files: number;
  running: boolean;
  /** Tries of the current run that failed (0 after a success). */
  failedTries: number;
}
