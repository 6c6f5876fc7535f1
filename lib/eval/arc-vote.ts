/**
 * Voting over predicted ARC grids (docs/algorithm.md §6.2 `result()`): every prediction of a test input is a
 * vote for its grid hash carrying the model's confidence sigmoid(q_halt). Candidates rank by
 * (votes, mean confidence), both descending; exact ties keep the order in which the candidates
 * first appeared, as Python's stable `sorted(..., reverse=True)` does.
 */

/** The votes one candidate grid received. */
export interface VoteStats {
  /** Number of predictions of this grid. */
  votes: number;
  /** Sum of their confidences sigmoid(q_halt), in float64. */
  sumQ: number;
}

/** A ranked candidate. */
export interface RankedCandidate {
  /** The grid's hash (the official `grid_hash`). */
  hash: string;
  /** Number of predictions of this grid. */
  votes: number;
  /** Mean confidence sigmoid(q_halt) of those predictions. */
  meanQ: number;
}

/** The votes of one test input: grid hash → stats, in order of first appearance. */
export class VoteTally {
  readonly #stats = new Map<string, VoteStats>();

  /** Adds one prediction (or `votes` predictions whose confidences sum to `q`). */
  add(hash: string, q: number, votes = 1): void {
    const s = this.#stats.get(hash);
    if (s) {
      s.votes += votes;
      s.sumQ += q;
    } else {
      this.#stats.set(hash, { votes, sumQ: q });
    }
  }

  /** Adds every candidate of `other` after this tally's own (the order of a rank-ordered gather). */
  merge(other: VoteTally): void {
    for (const [hash, s] of other.entries()) this.add(hash, s.sumQ, s.votes);
  }

  /** Candidates and their stats in order of first appearance. */
  entries(): IterableIterator<[string, Readonly<VoteStats>]> {
    return this.#stats.entries();
  }

  /** Number of distinct candidates. */
  get size(): number {
    return this.#stats.size;
  }

  /** Total predictions. */
  get totalVotes(): number {
    let n = 0;
    for (const s of this.#stats.values()) n += s.votes;
    return n;
  }

  /** Candidates sorted by (votes, mean confidence) descending; ties keep first-appearance order. */
  ranked(): RankedCandidate[] {
    const list = Array.from(this.#stats, ([hash, s]) => ({ hash, votes: s.votes, meanQ: s.sumQ / s.votes }));
    // Array.prototype.sort is stable (ES2019), so equal keys keep insertion order.
    return list.sort((a, b) => b.votes - a.votes || b.meanQ - a.meanQ);
  }
}

/** sigmoid in float64 as torch computes it for the official `q.to(float64).sigmoid()`: 1 / (1 + e^−x). */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
