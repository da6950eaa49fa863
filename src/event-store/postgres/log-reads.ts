// The PostgreSQL store's reads, as the SQL they run: a page of one stream (ReadStream) and a
// page of a tenant's log (Subscribe). Both are cut at the response budget, so a page of
// large events stays a few megabytes; the log's page is prepared once per connection.

import type { RecordedEvent } from '../event-store.ts';
import { budgeted, eventBytesSql, withinBudget } from './byte-budget.ts';
import type { Row } from './rows.ts';
import { bigintColumn, eventColumns, toRecordedEvent } from './rows.ts';

/**
 * Events a subscription reads per query: its memory stays flat however long the log (two
 * pages at most, the one delivered and the next, each also cut by the response budget).
 * Against 200, a catch-up ran a tenth faster: fewer queries, each paying a round trip.
 */
const LOG_PAGE_SIZE = 1000;

export interface LogPage {
  readonly events: RecordedEvent[];
  readonly nextPosition: number;
  readonly isEnd: boolean;
}

/** A page of one stream, each row marked whether it is within the response budget ($5). */
export function streamPageQuery(schema: string, forward: boolean): string {
  const order = forward ? 'version' : 'version DESC';
  return `SELECT e.within_budget, ${eventColumns('CASE WHEN e.within_budget THEN e.payload END')}
    FROM (${budgeted(`SELECT e.*, ${eventBytesSql('e')} AS bytes
           FROM "${schema}".events e WHERE e.tenant_id = $1 AND e.aggregate_id = $2 AND e.version ${forward ? '>=' : '<='} $3
           ORDER BY e.${order} LIMIT $4`, order, '$5')}) e
    ORDER BY e.${order}`;
}

/**
 * One page of a tenant's log from a position on. The page is cut before the prefix filter,
 * so a prefix that matches little still moves the cursor a page at a time, and cut again at
 * the response budget.
 */
export function logPageQuery(
  schema: string,
  page: { readonly tenantId: string; readonly prefix: string; readonly from: number; readonly budget: number },
): { name: string; text: string; values: unknown[] } {
  const matches = 'starts_with(e.aggregate_id, $4)';
  return {
    // Named, so each connection plans it once: a catch-up runs it a thousand times.
    name: `log_page/${schema}`,
    text: `SELECT e.global_position AS scanned_position, e.matches, e.within_budget, ${eventColumns('CASE WHEN e.matches AND e.within_budget THEN e.payload END')}
      FROM (${budgeted(`SELECT e.*, ${matches} AS matches, CASE WHEN ${matches} THEN ${eventBytesSql('e')} ELSE 0 END AS bytes
             FROM "${schema}".events e WHERE e.tenant_id = $1 AND e.global_position >= $2 ORDER BY e.global_position LIMIT $3`, 'global_position', '$5')}) e
      ORDER BY e.global_position`,
    values: [page.tenantId, page.from, LOG_PAGE_SIZE, page.prefix, page.budget],
  };
}

/** The page `logPageQuery` read from `from`: its events, where the next one starts, whether the log ended. */
export function logPageOf(rows: readonly Row[], from: number): LogPage {
  const scanned = withinBudget(rows);
  const last = scanned.at(-1);
  return {
    events: scanned.filter((row) => row['matches'] === true).map(toRecordedEvent),
    nextPosition: last === undefined ? from : bigintColumn(last, 'scanned_position') + 1,
    isEnd: scanned.length === rows.length && rows.length < LOG_PAGE_SIZE,
  };
}
