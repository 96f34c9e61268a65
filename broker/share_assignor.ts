/**
 * The share group assignor for one topic (KIP-932; the idea of Kafka's
 * SimpleAssignor): every partition gets a member and every member a
 * partition, balanced, and sticky: a member keeps what it had in the
 * previous target as far as the balance allows, so that a member joining or
 * leaving moves as few partitions as it can.
 *
 * - At least as many partitions as members: each partition goes to one
 *   member; each member gets floor(P/M) partitions, P mod M of them one more.
 * - More members than partitions: each member gets one partition; each
 *   partition is shared by floor(M/P) members, M mod P of them by one more.
 *
 * Without a previous target this gives partition i to member i mod M (or
 * member j partition j mod P), members in id order.
 */

/**
 * Assigns partitions 0..partitions-1 of one topic to `members` (ids in a
 * stable order), given each member's partitions of the previous target.
 */
export function assignShareTopic(
  members: string[],
  partitions: number,
  previous: Map<string, number[]>,
): Map<string, number[]> {
  const out = new Map<string, number[]>(members.map((m) => [m, []]));
  if (members.length === 0 || partitions <= 0) return out;
  const had = (m: string) => (previous.get(m) ?? []).filter((p) => p >= 0 && p < partitions);
  if (partitions >= members.length) {
    const base = Math.floor(partitions / members.length);
    let extra = partitions % members.length;
    const owner = new Map<number, string>();
    const take = (m: string, p: number) => {
      owner.set(p, m);
      out.get(m)!.push(p);
    };
    // Keep up to the base share of what each member had, then one more while extra slots last.
    for (const m of members) {
      for (const p of had(m)) {
        if (out.get(m)!.length >= base) break;
        if (!owner.has(p)) take(m, p);
      }
    }
    for (const m of members) {
      if (extra === 0) break;
      const p = had(m).find((x) => !owner.has(x));
      if (p !== undefined && out.get(m)!.length === base) {
        take(m, p);
        extra--;
      }
    }
    // The rest to the members with the fewest, in member order.
    for (let p = 0; p < partitions; p++) {
      if (owner.has(p)) continue;
      let best: string | null = null;
      for (const m of members) {
        const n = out.get(m)!.length;
        const cap = base + (extra > 0 || n < base ? 1 : 0);
        if (n >= cap) continue;
        if (best === null || n < out.get(best)!.length) best = m;
      }
      const m = best ?? members[0];
      if (out.get(m)!.length >= base) extra--;
      take(m, p);
    }
  } else {
    const base = Math.floor(members.length / partitions);
    let extra = members.length % partitions;
    const count = new Array<number>(partitions).fill(0);
    const unplaced: string[] = [];
    const place = (m: string, p: number) => {
      out.get(m)!.push(p);
      count[p]++;
    };
    // Keep the partition each member had while it has room (base, then the extra slots).
    for (const m of members) {
      const p = had(m)[0];
      if (p !== undefined && count[p] < base) place(m, p);
      else unplaced.push(m);
    }
    const rest: string[] = [];
    for (const m of unplaced) {
      const p = had(m)[0];
      if (p !== undefined && extra > 0 && count[p] === base) {
        place(m, p);
        extra--;
      } else rest.push(m);
    }
    // The rest to the partitions shared by the fewest, lowest partition first.
    for (const m of rest) {
      let best = -1;
      for (let p = 0; p < partitions; p++) {
        const cap = base + (extra > 0 || count[p] < base ? 1 : 0);
        if (count[p] >= cap) continue;
        if (best === -1 || count[p] < count[best]) best = p;
      }
      if (best === -1) best = 0;
      if (count[best] >= base) extra--;
      place(m, best);
    }
  }
  for (const ps of out.values()) ps.sort((x, y) => x - y);
  return out;
}
