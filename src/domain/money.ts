// Money as people type it and as the program keeps it. Inside the program and in stored
// payloads an amount is a whole number of cents, so no sum ever meets a rounding error;
// dollars exist only at the edges, parsed and formatted here and nowhere else.

/** The largest amount a single command may carry: one billion dollars. */
export const MAX_AMOUNT_CENTS = 100_000_000_000;

/**
 * The largest balance an account may hold: ten trillion dollars. Well inside the cents a
 * double counts exactly (Number.MAX_SAFE_INTEGER, some 90 trillion dollars), which is where
 * the stored events' decoder draws its line: a balance the rules allow is always one the
 * decoder reads back.
 */
export const MAX_BALANCE_CENTS = 1_000_000_000_000_000;

export class InvalidAmountError extends Error {
  constructor(readonly input: string, reason: string) {
    super(`"${input}" is not a valid amount: ${reason}`);
  }
}

const AMOUNT = /^(\d+)(?:\.(\d{1,2}))?$/;

/**
 * Parses a non-negative dollar amount with at most two decimals ("12", "12.3", "12.34")
 * into cents. Signs, exponents, thousands separators and a third decimal are refused
 * rather than guessed at: a bank does not round what a customer typed.
 */
export function parseAmount(input: string): number {
  const match = AMOUNT.exec(input);
  if (match === null) {
    const reason = input.trim() === ''
      ? 'it is empty'
      : /^\d*\.\d{3,}$/.test(input)
        ? 'use at most two decimals'
        : 'write dollars and cents like 12.34, without a sign or other symbols';
    throw new InvalidAmountError(input, reason);
  }
  const [, dollars = '', cents = ''] = match;
  // Past 15 digits a double stops counting cents exactly; such amounts are over the limit anyway.
  const amountCents = dollars.length > 15 ? Infinity : Number(dollars) * 100 + Number(cents.padEnd(2, '0'));
  if (amountCents > MAX_AMOUNT_CENTS) throw new InvalidAmountError(input, `the most is ${formatCents(MAX_AMOUNT_CENTS)}`);
  return amountCents;
}

/** 1234 → "12.34", -5 → "-0.05". */
export function formatCents(amountCents: number): string {
  if (!Number.isSafeInteger(amountCents)) throw new RangeError(`not a whole number of cents: ${amountCents}`);
  const sign = amountCents < 0 ? '-' : '';
  const magnitude = Math.abs(amountCents);
  const cents = String(magnitude % 100).padStart(2, '0');
  return `${sign}${Math.trunc(magnitude / 100)}.${cents}`;
}
