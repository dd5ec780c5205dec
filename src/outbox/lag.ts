/** Percentiles of a set of lags, in milliseconds. */
export interface LagSummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

const CAPACITY = 20_000;

/**
 * Lags seen in one interval. Keeps at most 20,000 samples (a uniform
 * reservoir sample beyond that), so a busy relay's memory stays flat while
 * its percentiles stay honest.
 */
export class LagWindow {
  readonly #samples: number[] = [];
  #seen = 0;
  #max = 0;

  add(ms: number): void {
    const value = Math.max(0, ms);
    this.#seen++;
    if (value > this.#max) this.#max = value;
    if (this.#samples.length < CAPACITY) {
      this.#samples.push(value);
      return;
    }
    const slot = Math.floor(Math.random() * this.#seen);
    if (slot < CAPACITY) this.#samples[slot] = value;
  }

  /** Nearest-rank percentiles, or null when nothing was added. */
  summarize(): LagSummary | null {
    if (this.#seen === 0) return null;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
    return { count: this.#seen, p50: rank(0.5), p99: rank(0.99), max: this.#max };
  }
}
