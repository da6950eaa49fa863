// Typos at the command line: the name a person most likely meant, from the names the tool
// knows (help.ts's table), so an error can offer it instead of only listing everything.

/**
 * The one candidate that `input` starts (`desc` → `description`), else the nearest by edit
 * distance when close enough to be a slip (`depost` → `deposit`); nothing when unsure.
 */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const typed = input.toLowerCase();
  if (typed === '') return undefined;
  const prefixed = candidates.filter((candidate) => candidate.startsWith(typed));
  if (prefixed.length === 1) return prefixed[0];
  // One slip in a short word, two in a longer one; a wider net catches unrelated words.
  const allowed = typed.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = Infinity;
  let tied = false;
  for (const candidate of candidates) {
    const distance = editDistance(typed, candidate);
    if (distance < bestDistance) [best, bestDistance, tied] = [candidate, distance, false];
    else if (distance === bestDistance) tied = true;
  }
  return bestDistance <= allowed && !tied ? best : undefined;
}

/** Levenshtein distance, with a swap of two neighbouring letters counted as one edit. */
export function editDistance(a: string, b: string): number {
  // rows[i][j]: edits to turn the first i letters of a into the first j letters of b.
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i]!;
      const above = rows[i - 1]!;
      const substitution = above[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      row[j] = Math.min(above[j]! + 1, row[j - 1]! + 1, substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}
