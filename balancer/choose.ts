/** What the balancer knows of one backend when it picks one. */
export interface Candidate {
  id: string;
  ready: boolean;
  /** Open WebSockets on it that are not this balancer's: its last report, less ours (backendPool.ts). */
  reported: number;
  /** What this balancer has open on it now (WebSockets and HTTP requests in flight), counted live. */
  delta: number;
}

/**
 * Least connections, ties broken round-robin. Pure.
 *
 * The load of a backend is what this balancer has open on it now, plus what the backend's last
 * report says others have there. With one balancer that is exactly its live count; with several
 * in front of the same nodes (or clients connecting directly), each one also sees the others'
 * connections (at most one check interval old), so they do not all pile onto the node that looks
 * empty to each of them alone.
 *
 * `turn` rotates where ties start, so equal backends take turns. `usable`: which candidates may be
 * picked (default: the ready ones; in panic, backendPool.ts widens it).
 */
export function choose<C extends Candidate>(candidates: readonly C[], turn: number, usable: (candidate: C) => boolean = (c) => c.ready): C | null {
  let best: C | null = null;
  let bestLoad = Infinity;
  const n = candidates.length;
  for (let i = 0; i < n; i++) {
    const candidate = candidates[(turn + i) % n]!;
    if (!usable(candidate)) continue;
    const load = Math.max(0, candidate.reported + candidate.delta);
    if (load < bestLoad) {
      best = candidate;
      bestLoad = load;
    }
  }
  return best;
}
