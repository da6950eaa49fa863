// What every read model on the read side is fed: a decoded BankAccount event together with
// where it sits in the log and when it was recorded. Read models see nothing of the write
// side; this is all they know.

import type { BankAccountEvent } from '../domain/bank-account.ts';

export interface ProjectedEvent {
  readonly event: BankAccountEvent;
  readonly globalPosition: number;
  /** The event's version in its account's stream. */
  readonly version: number;
  /**
   * The store's commit time, milliseconds since the epoch: when it happened, as far as the
   * bank is concerned. Read models keep the number and format it only when a query asks.
   */
  readonly recordedAtMs: number;
}

export interface ReadModel {
  readonly name: string;
  /** The global position of the last event this read model reflects; 0 when empty. */
  readonly position: number;
  apply(projected: ProjectedEvent): void;
}
