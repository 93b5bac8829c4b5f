import type { JobRecord, JobState } from '../storage/domain';

/** What a running job sees: its parameters, where to resume, and how to report. */
export interface JobContext<P = Record<string, unknown>, C = Record<string, unknown>> {
  readonly id: string;
  readonly params: P;
  /** The last checkpoint saved (after a restart or a resume), or null: start from the beginning. */
  readonly resumeFrom: C | null;
  /** Bytes done so far (a resumed job keeps its progress). */
  readonly bytesDone: number;
  /** True once cancel was asked for or the gateway is shutting down: stop at the next safe point. */
  readonly stopping: boolean;
  setTotal(bytes: number): void;
  /** Add bytes done. */
  progress(bytes: number): void;
  /** Persist the resume point with the progress so far. */
  checkpoint(point: C): Promise<void>;
}

/** One kind of long operation; registered once with the JobService. */
export interface JobKind<P = Record<string, unknown>, C = Record<string, unknown>> {
  readonly kind: string;
  /** Can a failed or cancelled job of this kind be resumed from its checkpoint? */
  readonly resumable: boolean;
  run(ctx: JobContext<P, C>): Promise<void>;
  /** Called once the job has ended (any outcome but 'paused'), e.g. to leave its target in a clean state. */
  ended?(job: JobRecord, state: JobState): void;
}

/** A job's public view: its record, the live rate and ETA, and whether it can be resumed. */
export interface JobInfo extends JobRecord {
  /** Bytes per second, smoothed (0 unless running). */
  rate: number;
  /** Seconds to go at the current rate, or null when unknown. */
  etaSeconds: number | null;
  percent: number;
  resumable: boolean;
}
