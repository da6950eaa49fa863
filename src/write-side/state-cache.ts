// A layer over the command handler that a first reading can skip: the state each stream
// was last seen in, kept in memory, so a command on a known stream reads nothing before it
// decides and costs one round trip (the append) instead of two, whatever the stream's length.
//
// Why a stale entry is harmless: an accepted decision is appended with the cached version
// as the expected version, so the store refuses it if another writer got there first, and
// the handler then reads only the newer events. A refusal never reaches the store, so the
// handler confirms it against the store first (see command-handler.ts).

/** A stream's state as of a version: what folding its first `version` events gave. */
export interface KnownState<State> {
  readonly state: State;
  readonly version: number;
}

export class StateCache<State> {
  private readonly entries = new Map<string, KnownState<State>>();

  /** At most `capacity` streams are kept; the least recently used goes first. */
  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`a state cache holds at least 1 stream, not ${capacity}`);
  }

  get(aggregateId: string): KnownState<State> | undefined {
    const known = this.entries.get(aggregateId);
    // A Map iterates in insertion order: re-inserting on every touch keeps it in LRU order.
    if (known !== undefined) this.remember(aggregateId, known);
    return known;
  }

  remember(aggregateId: string, known: KnownState<State>): void {
    this.entries.delete(aggregateId);
    this.entries.set(aggregateId, known);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** After an append whose outcome is unknown: the stream is read afresh next time. */
  forget(aggregateId: string): void {
    this.entries.delete(aggregateId);
  }

  get size(): number {
    return this.entries.size;
  }
}
