// Bench support: running some rows only. `pnpm bench -- postgres` (or BENCH_ONLY=postgres)
// runs the row groups whose name holds one of the words given, case aside; none given, all.

const words = [...process.argv.slice(2), ...(process.env.BENCH_ONLY ?? '').split(',')]
  .map((word) => word.trim().toLowerCase())
  .filter((word) => word !== '' && word !== '--');

/** Whether the row group of this name is to run. */
export function wanted(group: string): boolean {
  const name = group.toLowerCase();
  return words.length === 0 || words.some((word) => name.includes(word));
}

/** The words asked for, for the report; empty when every row runs. */
export const ONLY: readonly string[] = words;
