/** Levenshtein distance: insertions, deletions and substitutions, each costing one. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The closest candidate, if it is close enough to be what was meant: within
 * a third of the word's length (at least 1, at most 3 edits), or a candidate
 * the word is a prefix or an extension of (`user` for `users`).
 *
 * @example suggest('lmit', ['limit', 'after']) // 'limit'
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const budget = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    const related = word.length >= 3 && (candidate.startsWith(word) || word.startsWith(candidate));
    if (distance > budget && !related) continue;
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  return best?.candidate;
}

/** `; did you mean X?` or nothing. */
export function didYouMean(word: string, candidates: readonly string[], show: (candidate: string) => string): string {
  const match = suggest(word, candidates);
  return match === undefined ? '' : `; did you mean ${show(match)}?`;
}
