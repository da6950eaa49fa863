// Which read models each command reads, so a run loads and follows only those: `summary` on
// a long log never pays for TransactionHistory's file, which holds a row per transaction.
// A read model left out keeps its file as it was; the next run that needs it catches it up.

import type { ReadModelKey } from '../read-side/read-models.ts';
import { READ_MODEL_KEYS } from '../read-side/read-models.ts';
import type { Invocation } from './arguments.ts';
import { FOLLOWED_LIVE } from './walkthrough.ts';

const SUMMARIES: readonly ReadModelKey[] = ['accountSummaries'];

export const READ_MODELS_NEEDED: { readonly [Command in Invocation['command']]: readonly ReadModelKey[] } = {
  // The write commands answer from AccountSummary once it shows their events.
  open: SUMMARIES,
  deposit: SUMMARIES,
  withdraw: SUMMARIES,
  close: SUMMARIES,
  summary: SUMMARIES,
  accounts: SUMMARIES,
  // TransactionHistory, and AccountSummary to tell an unknown account from one without transactions.
  history: ['accountSummaries', 'transactionHistories'],
  // CustomerPortfolio alone: it knows which customers it has seen.
  portfolio: ['customerPortfolios'],
  // The log itself, raw: no read model.
  events: [],
  help: [],
  // The walkthrough follows the first two live, and builds CustomerPortfolio itself from the
  // log once the events are in, to show a read model added after its events were written.
  walkthrough: FOLLOWED_LIVE,
  // Each shows or compares every read model; the shell may run any command.
  rebuild: READ_MODEL_KEYS,
  watch: READ_MODEL_KEYS,
  shell: READ_MODEL_KEYS,
};
