// The event log itself, beneath both sides: `events` prints it raw, `watch` follows it live
// and shows what each new event changed in the read models. Nothing here writes.

import { isDeepStrictEqual } from 'node:util';
import type { EventStore, RecordedEvent } from '../event-store/event-store.ts';
import { readWholeStream } from '../event-store/event-store.ts';
import { formatCents } from '../domain/money.ts';
import { isBankAccountEvent } from '../domain/bank-account-codec.ts';
import type { AccountSummary } from '../read-side/account-summary/account-summary.ts';
import { decodeOrPark, describeParked } from '../read-side/parked-events.ts';
import type { ParkedEvent } from '../read-side/parked-events.ts';
import type { CustomerPortfolio } from '../read-side/customer-portfolio/customer-portfolio.ts';
import { wireReadSide } from '../wire.ts';
import { EXIT, NotFoundError } from './exit-codes.ts';
import type { ExitCode } from './exit-codes.ts';
import type { CliContext } from './cli-context.ts';
import type { Output } from './terminal.ts';
import { oneLine } from './terminal.ts';

export async function runEvents(context: CliContext, accountId: string | undefined, flags: { json: boolean }): Promise<ExitCode> {
  const { store, tenantId, out } = context;
  const events = accountId === undefined
    ? await wholeLog(store, tenantId, context.interrupted)
    : await readWholeStream(store, { tenantId, aggregateId: accountId });
  if (accountId !== undefined && events.length === 0) throw new NotFoundError(`unknown account ${accountId}: its stream has no events`);
  if (flags.json) {
    out.json(events.map(eventJson));
    return EXIT.done;
  }
  if (events.length === 0) out.line(out.style.dim(`the log of tenant ${tenantId} is empty`));
  for (const event of events) printEvent(out, event);
  return EXIT.done;
}

/**
 * Follows the log until `signal` aborts, printing each new event and what it changed. Its
 * read models start where the saved ones stand, so only the newer events are replayed.
 */
export async function runWatch(context: CliContext, signal: AbortSignal): Promise<ExitCode> {
  const { store, tenantId, out } = context;
  /** Each account's summary as last shown, to print what the next event changed. */
  const summaries = new Map<string, AccountSummary>();
  let live = false;
  const readSide = wireReadSide({
    store,
    tenantId,
    resume: context.savedReadModels.resume(),
    onApplied: (recorded) => {
      if (!live) return;
      const accountId = recorded.stream.aggregateId;
      const before = summaries.get(accountId);
      const after = readSide.accountSummaries.get(accountId);
      if (after !== undefined) summaries.set(accountId, after);
      printEvent(out, recorded);
      const newest = readSide.transactionHistories.latest(accountId);
      if (after !== undefined && !isDeepStrictEqual(after, before)) out.line(oneLine(`      AccountSummary      ${summaryChange(before, after)}`));
      if (newest !== undefined && (recorded.eventType === 'MoneyDeposited' || recorded.eventType === 'MoneyWithdrawn')) {
        const row = `${newest.type} ${formatCents(newest.amountCents)} "${newest.description}", balance after ${formatCents(newest.balanceAfterCents)}`;
        out.line(oneLine(`      TransactionHistory  + ${row}`));
      }
      const portfolio = after === undefined ? undefined : readSide.customerPortfolios.of(after.customerId);
      if (portfolio !== undefined) out.line(oneLine(`      CustomerPortfolio   ${portfolioNow(portfolio)}`));
    },
  });
  readSide.projector.start();
  try {
    // Until Ctrl-C, unless the projector stops first (the store went away): then its error.
    await Promise.race([readSide.projector.caughtUp, aborted(signal)]);
    if (signal.aborted) return EXIT.done;
    for (const summary of readSide.accountSummaries.all()) summaries.set(summary.accountId, summary);
    live = true;
    out.line(out.style.dim(`watching tenant ${tenantId} after log position ${readSide.projector.position}; Ctrl-C to stop`));
    await Promise.race([aborted(signal), readSide.projector.failed]);
  } finally {
    await readSide.projector.stop();
  }
  return EXIT.done;
}

function portfolioNow(portfolio: CustomerPortfolio): string {
  const accounts = `${portfolio.accountCount} account${portfolio.accountCount === 1 ? '' : 's'}`;
  const money = `in ${formatCents(portfolio.moneyInCents)}, out ${formatCents(portfolio.moneyOutCents)}`;
  return `${portfolio.customerId}: ${accounts}, total balance ${formatCents(portfolio.totalBalanceCents)} · ${money}`;
}

function summaryChange(before: AccountSummary | undefined, after: AccountSummary): string {
  if (before === undefined) return `new: ${after.accountType}, balance ${formatCents(after.balanceCents)}, ${after.status}`;
  const changes = [
    before.balanceCents !== after.balanceCents ? `balance ${formatCents(before.balanceCents)} → ${formatCents(after.balanceCents)}` : '',
    before.transactionCount !== after.transactionCount ? `transactions ${before.transactionCount} → ${after.transactionCount}` : '',
    before.status !== after.status ? `status ${before.status} → ${after.status}` : '',
  ].filter((change) => change !== '');
  return changes.length === 0 ? 'last activity updated' : changes.join(' · ');
}

async function wholeLog(store: EventStore, tenantId: string, interrupted: AbortSignal | undefined): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  const stop = new AbortController();
  const signal = interrupted === undefined ? stop.signal : AbortSignal.any([stop.signal, interrupted]);
  for await (const message of store.subscribe({ tenantId, fromPosition: 0, signal })) {
    if (message.kind === 'caught-up') break;
    events.push(message.event);
  }
  stop.abort();
  interrupted?.throwIfAborted();
  return events;
}

function printEvent(out: Output, event: RecordedEvent): void {
  const where = `${event.stream.aggregateType}/${event.stream.aggregateId} v${event.version}`;
  const time = new Date(event.recordedAtMs).toISOString();
  const reason = parkedReason(event);
  const parked = reason === undefined ? '' : `  ${out.style.yellow(`PARKED (the read models skip it): ${reason}`)}`;
  out.line(oneLine(`${out.style.cyan(`#${event.globalPosition}`.padEnd(6))} ${out.style.bold(event.eventType.padEnd(15))} ${where}  ${out.style.dim(time)}  ${payloadText(event)}${parked}`));
}

/** Why the read models skip this event, if they do: the same check the projector makes. */
function parkedReason(event: RecordedEvent): string | undefined {
  if (!isBankAccountEvent(event)) return undefined;
  const decoded = decodeOrPark(event);
  return 'parked' in decoded ? decoded.parked.reason : undefined;
}

/** How many parked events a run lists one by one before it only counts them. */
const PARKED_LISTED = 10;

/**
 * The projector's onParked for the CLI: each parked event once per run, on stderr, the
 * saved ones included, so a skipped event is never silent; past ten, one line says so.
 */
export function warnOfParked(out: Output): (parked: ParkedEvent) => void {
  let told = 0;
  return (parked) => {
    told++;
    if (told <= PARKED_LISTED) out.problem(oneLine(`warning: ${describeParked(parked)}`));
    if (told === PARKED_LISTED + 1) out.problem('warning: more events are parked; `events` marks every one');
  };
}

function eventJson(event: RecordedEvent): object {
  const isJson = event.contentType === 'application/json';
  const parked = parkedReason(event);
  return {
    globalPosition: event.globalPosition,
    aggregateType: event.stream.aggregateType,
    aggregateId: event.stream.aggregateId,
    version: event.version,
    eventType: event.eventType,
    eventVersion: event.eventVersion,
    eventId: event.eventId,
    recordedAt: new Date(event.recordedAtMs).toISOString(),
    correlationId: event.correlationId,
    contentType: event.contentType,
    ...(parked === undefined ? {} : { parked }),
    payload: isJson ? parsedOrText(payloadText(event)) : Buffer.from(event.payload).toString('base64'),
  };
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // another client's malformed payload is still shown, not a crash
  }
}

function payloadText(event: RecordedEvent): string {
  return event.contentType === 'application/json'
    ? Buffer.from(event.payload).toString('utf8')
    : `(${event.payload.byteLength} bytes of ${event.contentType})`;
}

function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
