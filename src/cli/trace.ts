// --trace: the path one command or query takes through CQRS, step by step and timed: the
// stream read, the decision, the append, each read model reaching the new position, and
// the query answered from a read model. Fed by hooks the write and read sides expose.

import { performance } from 'node:perf_hooks';
import { unreachable } from '../domain/bank-account.ts';
import type { BankAccountCommand, BankAccountEvent } from '../domain/bank-account.ts';
import { formatCents } from '../domain/money.ts';
import type { RecordedEvent } from '../event-store/event-store.ts';
import type { ReadModel } from '../read-side/read-model.ts';
import type { BankCommandStep } from '../wire.ts';
import { describeRejection } from './messages.ts';
import type { Style } from './terminal.ts';
import { oneLine } from './terminal.ts';

interface Projected {
  readonly name: string;
  readonly position: number;
  readonly at: number;
}

export class Tracer {
  private active = false;
  private startedAt = 0;
  private appendedAt: number | undefined;
  private projected: Projected[] = [];
  private readModelsStartShown = false;

  constructor(
    private readonly print: (line: string) => void,
    private readonly style: Style,
  ) {}

  begin(title: string): void {
    this.active = true;
    this.startedAt = performance.now();
    this.appendedAt = undefined;
    this.projected = [];
    this.print(`${this.style.cyan('┌')} ${this.style.bold(title)}`);
  }

  /** The command handler's hook. */
  readonly onCommandStep = (step: BankCommandStep): void => {
    if (!this.active) return;
    switch (step.step) {
      case 'cached':
        this.row('write side', `state from the cache, at version ${step.version}: no read before deciding`);
        return;
      case 'read': {
        const stream = `${step.stream.aggregateType}/${step.stream.aggregateId}`;
        switch (step.reason) {
          case 'load':
            this.row('write side', `read stream ${stream}: ${plural(step.eventsRead, 'event')}, at version ${step.version}`);
            this.row('', `fold them with evolve into the account's state`);
            return;
          case 'conflict':
            this.row('', `read the ${plural(step.eventsRead, 'event')} after version ${step.afterVersion}, fold them on: at version ${step.version}`);
            return;
          case 'confirm':
            this.row('', `confirmed against the store before refusing: ${plural(step.eventsRead, 'newer event')}, at version ${step.version}`);
            return;
          default:
            return unreachable(step.reason);
        }
      }
      case 'decided':
        this.row('', `decide → ${step.events.map(describeEvent).join('; ')}`);
        return;
      case 'refused':
        this.row('', `decide → ${this.style.red(`refused by a rule: ${describeRejection(step.rejection)}`)}`);
        this.row('', 'nothing appended, so nothing reaches the read side');
        return;
      case 'conflict':
        this.row('', this.style.yellow(`append refused: expected version ${step.expectedVersion}, stream is at ${step.actualVersion}; read and decide again`));
        return;
      case 'appended':
        this.appendedAt = performance.now();
        this.row('', `append with expected version ${step.expectedVersion} → version ${step.lastVersion}, global position ${step.lastGlobalPosition}`);
        return;
      case 'already-recorded':
        this.appendedAt = performance.now();
        this.row('', `sent before: its events are in the stream already (version ${step.lastVersion}, global position ${step.lastGlobalPosition}); nothing appended`);
        return;
      default:
        unreachable(step);
    }
  };

  /** The projector's hook: noted now, printed once the caller has waited for its position. */
  readonly onProjected = (projection: ReadModel, recorded: RecordedEvent): void => {
    if (this.active) this.projected.push({ name: projection.name, position: recorded.globalPosition, at: performance.now() });
  };

  /** After waiting for `position`: when each read model took it in, against the append. */
  projectionsReached(position: number): void {
    const reached = this.projected.filter((entry) => entry.position === position);
    reached.forEach((entry, index) => {
      const after = this.appendedAt === undefined ? '' : `, ${relative(entry.at - this.appendedAt)} the append returned`;
      this.row(index === 0 ? 'read side' : '', `projector: ${entry.name} reached position ${position}${after}`);
    });
  }

  /** A read that first let the projector catch up with the log. */
  caughtUp(position: number): void {
    this.row('read side', `projector caught up with the log, at position ${position}`);
  }

  replayed(description: string): void {
    this.row('read side', description);
  }

  /**
   * Where the read models started this run: a checkpoint, or position 1 and why. Said by
   * the first traced command only: in the shell, later ones find the read models live.
   */
  readModelsStart(description: string): void {
    if (!this.active || this.readModelsStartShown) return;
    this.readModelsStartShown = true;
    this.row('', description);
  }

  /** Stops showing the trace under way: its command was interrupted and is no longer watched. */
  abandon(): void {
    this.active = false;
  }

  end(query: string): void {
    if (!this.active) return;
    this.print(`${this.style.cyan('└')} ${'query'.padEnd(10)}  ${query}  ${this.style.dim(`+${ms(performance.now() - this.startedAt)}`)}`);
    this.active = false;
  }

  private row(side: string, text: string): void {
    if (!this.active) return;
    this.print(oneLine(`${this.style.cyan('│')} ${side.padEnd(10)}  ${text}  ${this.style.dim(`+${ms(performance.now() - this.startedAt)}`)}`));
  }
}

export function describeCommand(command: BankAccountCommand): string {
  switch (command.type) {
    case 'OpenAccount': {
      const { accountId, accountType, customerId, initialBalanceCents } = command.data;
      return `OpenAccount ${accountId}: ${accountType} for ${customerId}, initial ${formatCents(initialBalanceCents)}`;
    }
    case 'DepositMoney':
    case 'WithdrawMoney':
      return `${command.type} ${command.data.accountId}: ${formatCents(command.data.amountCents)}${quoted(command.data.description)}`;
    case 'CloseAccount':
      return `CloseAccount ${command.data.accountId}${command.data.reason === '' ? '' : `:${quoted(command.data.reason)}`}`;
    default:
      return unreachable(command);
  }
}

export function describeEvent(event: BankAccountEvent): string {
  switch (event.type) {
    case 'AccountOpened':
      return `AccountOpened (${event.data.accountType} for ${event.data.customerId}, ${formatCents(event.data.initialBalanceCents)})`;
    case 'MoneyDeposited':
    case 'MoneyWithdrawn':
      return `${event.type} (${formatCents(event.data.amountCents)}, balance after ${formatCents(event.data.balanceAfterCents)})`;
    case 'AccountClosed':
      return `AccountClosed (final balance ${formatCents(event.data.finalBalanceCents)})`;
    default:
      return unreachable(event);
  }
}

/** A description or reason as typed, or nothing when none was given (not `""`). */
function quoted(text: string): string {
  return text === '' ? '' : ` ${JSON.stringify(text)}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

function relative(deltaMs: number): string {
  return deltaMs >= 0 ? `${ms(deltaMs)} after` : `${ms(-deltaMs)} before`;
}
