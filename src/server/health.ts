// Health that tells the truth: the server's storage is probed in the background and after
// each failure that looks like an outage, so a load balancer or a probe sees NOT_SERVING
// while the database is gone and SERVING again once it answers.

import type { HealthImplementation } from 'grpc-health-check';

export interface StorageProbe {
  /** Resolves when the storage answered; rejects when it could not be reached. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface HealthWatchOptions {
  readonly probe: StorageProbe;
  /** How often the storage is probed while nothing else asks. Default 2 s. */
  readonly intervalMs?: number;
  /** A probe not answered within this is a failure. Default 2 s. */
  readonly timeoutMs?: number;
  /** Told once per change, with why. */
  readonly log: (line: string) => void;
}

export class HealthWatch {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private serving = true;
  private stopped = false;

  constructor(
    private readonly health: HealthImplementation,
    private readonly services: readonly string[],
    private readonly options: HealthWatchOptions,
  ) {}

  start(): void {
    this.schedule();
  }

  /** Probes now, unless a probe is already on its way; a call just failed as if in an outage. */
  checkNow(): Promise<void> {
    this.running ??= this.check().finally(() => (this.running = undefined));
    return this.running;
  }

  /** No more probes, and none in flight may change the status: the server is going away. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.checkNow().then(() => this.schedule()), this.options.intervalMs ?? 2_000);
    // The probe alone must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  private async check(): Promise<void> {
    let failure: string | undefined;
    try {
      await this.options.probe.ping(this.options.timeoutMs ?? 2_000);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    if (this.stopped) return;
    if (failure === undefined && !this.serving) {
      this.serving = true;
      this.set('SERVING');
      this.options.log('health: the storage answers again: SERVING');
    } else if (failure !== undefined && this.serving) {
      this.serving = false;
      this.set('NOT_SERVING');
      this.options.log(`health: the storage cannot be reached: NOT_SERVING (${failure})`);
    }
  }

  private set(status: 'SERVING' | 'NOT_SERVING'): void {
    for (const service of this.services) this.health.setStatus(service, status);
  }
}
