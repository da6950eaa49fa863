// Tells other server processes that appends committed, after the commit and outside the
// append's transaction: a NOTIFY inside it would serialise every committing append in the
// database on the notification queue's lock. Once per batch at most, coalesced further while
// one is on its way; a notification lost with its process costs a subscriber one fallback poll.

/** A tenant id longer than this is left out of the payload (8000 bytes at most): everyone wakes. */
const MAX_TENANT_BYTES = 1000;

export class CommitNotifier {
  private pending = new Map<string, number>();
  private sending = false;

  /** `send` runs one statement notifying every payload given, in one transaction. */
  constructor(private readonly send: (payloads: readonly string[]) => Promise<void>) {}

  committed(lastPositionByTenant: ReadonlyMap<string, number>): void {
    for (const [tenantId, position] of lastPositionByTenant) {
      this.pending.set(tenantId, Math.max(position, this.pending.get(tenantId) ?? 0));
    }
    if (!this.sending) void this.flush();
  }

  private async flush(): Promise<void> {
    this.sending = true;
    try {
      while (this.pending.size > 0) {
        const due = this.pending;
        this.pending = new Map();
        // "<last global position> <tenant id>", as the listener reads it.
        const payloads = [...due].map(([tenantId, position]) => `${position} ${Buffer.byteLength(tenantId) <= MAX_TENANT_BYTES ? tenantId : ''}`);
        await this.send(payloads).catch(() => undefined);
      }
    } finally {
      this.sending = false;
    }
  }
}
