// Pages cut by bytes on PostgreSQL, a layer over the plain paged reads: a page of large events
// stays near the response budget, so readers at once cannot each make the server hold a stream.

import { EVENT_OVERHEAD_BYTES } from '../rules.ts';
import type { Row } from './rows.ts';

/**
 * What an event row weighs for the response budget, as `eventBytes` (rules.ts) weighs an
 * event: from the column sizes alone, so a large payload is never fetched to be weighed.
 */
export function eventBytesSql(alias: string): string {
  const size = (column: string): string => `coalesce(octet_length(${alias}.${column}), 0)`;
  const text = ['event_id', 'event_type', 'content_type', 'content_schema', 'correlation_id', 'causation_id', 'actor_id'].map(size);
  return `(${EVENT_OVERHEAD_BYTES} + ${size('payload')} + ${text.join(' + ')} + coalesce(octet_length(${alias}.headers::text), 0))`;
}

/**
 * The rows of `rows` (each with a `bytes` column), in `order`, each marked whether it fits
 * the byte budget: the rows before it and it weigh at most `budget`, or nothing weighs
 * before it, so one event larger than the budget still goes, alone.
 */
export function budgeted(rows: string, order: string, budget: string): string {
  return `SELECT sized.*, (sized.bytes_before = 0 OR sized.bytes_before + sized.bytes <= ${budget}) AS within_budget
    FROM (SELECT inner_rows.*, coalesce(sum(inner_rows.bytes) OVER (ORDER BY inner_rows.${order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS bytes_before
          FROM (${rows}) inner_rows) sized`;
}

/** The leading rows marked within the budget: where a page stops. */
export function withinBudget(rows: readonly Row[]): readonly Row[] {
  const cut = rows.findIndex((row) => row['within_budget'] !== true);
  return cut === -1 ? rows : rows.slice(0, cut);
}
