/**
 * The "sticky" task assignor of streams groups (KIP-1071), after the idea of
 * Kafka's group-coordinator `StickyTaskAssignor`: tasks stay where they ran
 * (a moved stateful task must restore its state from the changelog), the
 * active tasks are spread evenly over the members, and standby replicas of
 * stateful tasks go to other processes than the active one (a standby on
 * the same process would not survive the process's loss).
 *
 * Active tasks, in order of preference:
 * 1. to the member that had the task as active in the previous target, while
 *    it has fewer than its quota (ceil(tasks / members));
 * 2. to a member that had it as a standby (its state is nearly current);
 * 3. to the least loaded member, the least loaded process first.
 * Then, while two members' active counts differ by more than one, a task
 * moves from the fuller to the emptier one.
 *
 * Standby tasks (num.standby.replicas per stateful task): to the previous
 * active owner, else a previous standby owner, else the least loaded member,
 * always on a process that does not hold the task yet; fewer replicas when
 * there are not enough processes (as Kafka does, with a warning there).
 *
 * Warm-up tasks: none, as Kafka's sticky assignor gives none; members that
 * report warm-ups still reconcile them away.
 *
 * Deterministic: members, processes and tasks are visited in sorted order,
 * so every broker computes the same assignment from the same record.
 */

/** Tasks by subtopology id (sorted partition numbers). */
export type Tasks = Record<string, number[]>;

/** A member's tasks of each kind. */
export interface TaskSet {
  active: Tasks;
  standby: Tasks;
  warmup: Tasks;
}

/** An empty task set. */
export function noTasks(): TaskSet {
  return { active: {}, standby: {}, warmup: {} };
}

/** A member as the assignor sees it. */
export interface AssignorMember {
  memberId: string;
  processId: string;
  /** Its previous target assignment. */
  previous: TaskSet;
}

/** A subtopology as the assignor sees it. */
export interface AssignorSubtopology {
  subtopologyId: string;
  numTasks: number;
  stateful: boolean;
}

/** The assignor's name, as StreamsGroupDescribe v1 gives it (KIP-1357). */
export const STREAMS_ASSIGNOR = "sticky";

const key = (s: string, p: number) => JSON.stringify([s, p]);

function byId<T extends { memberId: string }>(a: T, b: T): number {
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}

/** Computes every member's target assignment. */
export function assignTasks(
  members: AssignorMember[],
  subtopologies: AssignorSubtopology[],
  numStandbyReplicas: number,
): Map<string, TaskSet> {
  const out = new Map<string, TaskSet>();
  const sorted = [...members].sort(byId);
  for (const m of sorted) out.set(m.memberId, noTasks());
  if (sorted.length === 0) return out;

  const subs = [...subtopologies].sort((a, b) =>
    a.subtopologyId < b.subtopologyId ? -1 : a.subtopologyId > b.subtopologyId ? 1 : 0
  );
  const tasks: [string, number][] = [];
  for (const s of subs) for (let p = 0; p < s.numTasks; p++) tasks.push([s.subtopologyId, p]);
  const stateful = new Set(subs.filter((s) => s.stateful).map((s) => s.subtopologyId));

  const prevActive = new Map<string, string>();
  const prevStandby = new Map<string, string[]>();
  const member = new Map(sorted.map((m) => [m.memberId, m]));
  for (const m of sorted) {
    for (const [s, ps] of Object.entries(m.previous.active)) {
      for (const p of ps) if (!prevActive.has(key(s, p))) prevActive.set(key(s, p), m.memberId);
    }
    for (const [s, ps] of Object.entries(m.previous.standby)) {
      for (const p of ps) {
        const k = key(s, p);
        prevStandby.set(k, [...(prevStandby.get(k) ?? []), m.memberId]);
      }
    }
  }

  // ---- active tasks ----
  const active = new Map(sorted.map((m) => [m.memberId, [] as [string, number][]]));
  const processMembers = new Map<string, string[]>();
  for (const m of sorted) {
    processMembers.set(m.processId, [...(processMembers.get(m.processId) ?? []), m.memberId]);
  }
  const quota = Math.ceil(tasks.length / sorted.length);
  const load = (id: string) => active.get(id)!.length;
  const processLoad = (pid: string) => {
    const ids = processMembers.get(pid)!;
    return ids.reduce((n, id) => n + load(id), 0) / ids.length;
  };
  const leastLoaded = (ids: string[]): string | null => {
    let best: string | null = null;
    for (const id of ids) {
      if (best === null) {
        best = id;
        continue;
      }
      const a = processLoad(member.get(id)!.processId);
      const b = processLoad(member.get(best)!.processId);
      if (a < b || (a === b && load(id) < load(best))) best = id;
    }
    return best;
  };
  const left: [string, number][] = [];
  for (const t of tasks) {
    const prev = prevActive.get(key(...t));
    if (prev !== undefined && member.has(prev) && load(prev) < quota) active.get(prev)!.push(t);
    else left.push(t);
  }
  const left2: [string, number][] = [];
  for (const t of left) {
    const cands = (prevStandby.get(key(...t)) ?? []).filter((id) =>
      member.has(id) && load(id) < quota
    );
    const id = leastLoaded(cands);
    if (id !== null) active.get(id)!.push(t);
    else left2.push(t);
  }
  for (const t of left2) active.get(leastLoaded(sorted.map((m) => m.memberId))!)!.push(t);
  // Balance: every move lowers the sum of squared loads, so this ends.
  for (let moved = true; moved;) {
    moved = false;
    const ids = sorted.map((m) => m.memberId).sort((a, b) => load(a) - load(b));
    const lo = ids[0];
    const hi = ids[ids.length - 1];
    if (load(hi) - load(lo) > 1) {
      const from = active.get(hi)!;
      // Prefer a task the receiver kept a standby of.
      let i = from.findIndex((t) => (prevStandby.get(key(...t)) ?? []).includes(lo));
      if (i < 0) i = from.length - 1;
      active.get(lo)!.push(...from.splice(i, 1));
      moved = true;
    }
  }
  const activeOwner = new Map<string, string>();
  for (const [id, ts] of active) for (const t of ts) activeOwner.set(key(...t), id);

  // ---- standby tasks ----
  const standby = new Map(sorted.map((m) => [m.memberId, [] as [string, number][]]));
  if (numStandbyReplicas > 0) {
    const total = (id: string) => load(id) + standby.get(id)!.length;
    for (const t of tasks) {
      if (!stateful.has(t[0])) continue;
      const k = key(...t);
      const holding = new Set<string>([member.get(activeOwner.get(k)!)!.processId]);
      for (let i = 0; i < numStandbyReplicas; i++) {
        const free = (id: string) => member.has(id) && !holding.has(member.get(id)!.processId);
        let pick: string | null = null;
        const prev = prevActive.get(k);
        if (prev !== undefined && free(prev)) pick = prev;
        if (pick === null) {
          const cands = (prevStandby.get(k) ?? []).filter(free);
          pick = cands.sort((a, b) => total(a) - total(b) || (a < b ? -1 : 1))[0] ?? null;
        }
        if (pick === null) {
          const cands = sorted.map((m) => m.memberId).filter(free);
          pick = cands.sort((a, b) => total(a) - total(b) || (a < b ? -1 : 1))[0] ?? null;
        }
        // Not enough processes for every replica: fewer standbys, as Kafka assigns.
        if (pick === null) break;
        standby.get(pick)!.push(t);
        holding.add(member.get(pick)!.processId);
      }
    }
  }

  const compact = (ts: [string, number][]): Tasks => {
    const o: Tasks = {};
    for (const [s, p] of ts) (o[s] ??= []).push(p);
    for (const ps of Object.values(o)) ps.sort((a, b) => a - b);
    return o;
  };
  for (const m of sorted) {
    out.set(m.memberId, {
      active: compact(active.get(m.memberId)!),
      standby: compact(standby.get(m.memberId)!),
      warmup: {},
    });
  }
  return out;
}
