import assert from "node:assert/strict";
import { ErrorCode } from "../protocol/errors.ts";
import {
  type ClassicGroup,
  type GroupConfig,
  heartbeat,
  join,
  type JoinInput,
  joinResult,
  leave,
  selectProtocol,
  sync,
  tick,
  validateOffsetCommit,
} from "./group_state.ts";

const CFG: GroupConfig = {
  initialRebalanceDelayMs: 100,
  minSessionTimeoutMs: 10,
  maxSessionTimeoutMs: 60_000,
};
const NO_HB = new Map<string, number>();

function input(over: Partial<JoinInput> = {}): JoinInput {
  return {
    memberId: "",
    groupInstanceId: null,
    clientId: "c",
    clientHost: "/127.0.0.1",
    sessionTimeoutMs: 1000,
    rebalanceTimeoutMs: 5000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: "AA==" }],
    apiVersion: 9,
    newMemberId: `c-${crypto.randomUUID()}`,
    ...over,
  };
}

/** Joins a dynamic member the KIP-394 way; returns the group and its member id. */
function joinNew(g: ClassicGroup | null, now: number, over: Partial<JoinInput> = {}) {
  const first = join(g, input(over), now, CFG);
  assert.equal(first.outcome.kind, "respond");
  const id = (first.outcome as { response: { memberId: string; errorCode: number } }).response;
  assert.equal(id.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  const second = join(first.group, input({ ...over, memberId: id.memberId }), now, CFG);
  assert.equal(second.outcome.kind, "wait");
  return { group: second.group!, memberId: id.memberId, outcome: second.outcome };
}

Deno.test("group state: the initial rebalance waits the delay, then one generation for all", () => {
  const a = joinNew(null, 0);
  assert.equal(a.group.state, "PreparingRebalance");
  const b = joinNew(a.group, 50);
  // Still inside the delay: nobody is answered yet.
  assert.equal(tick(b.group, 99, NO_HB, CFG).state, "PreparingRebalance");
  // The delay ends at 100 but a member was added during it: extended once.
  const extended = tick(b.group, 100, NO_HB, CFG);
  assert.equal(extended.state, "PreparingRebalance");
  const done = tick(extended, 200, NO_HB, CFG);
  assert.equal(done.state, "CompletingRebalance");
  assert.equal(done.generationId, 1);
  assert.equal(done.leaderId, a.memberId);
  assert.equal(done.protocolName, "range");
  const ra = joinResult(done, a.outcome as never)!;
  const rb = joinResult(done, b.outcome as never)!;
  assert.equal(ra.members.length, 2, "the leader gets every member");
  assert.equal(rb.members.length, 0);
  assert.equal(ra.generationId, rb.generationId);
});

Deno.test("group state: transitions never change their input", () => {
  const a = joinNew(null, 0);
  const frozen = JSON.stringify(a.group);
  tick(a.group, 10_000, NO_HB, CFG);
  join(a.group, input({ memberId: a.memberId }), 10, CFG);
  leave(a.group, [{ memberId: a.memberId, groupInstanceId: null }], 10, CFG);
  assert.equal(JSON.stringify(a.group), frozen);
});

Deno.test("group state: the assignor every member supports with the most votes wins", () => {
  let g = joinNew(null, 0, {
    protocols: [{ name: "cooperative-sticky", metadata: "" }, { name: "range", metadata: "" }],
  }).group;
  g = joinNew(g, 0, {
    protocols: [{ name: "range", metadata: "" }, { name: "cooperative-sticky", metadata: "" }],
  }).group;
  g = joinNew(g, 0, {
    protocols: [{ name: "range", metadata: "" }, { name: "cooperative-sticky", metadata: "" }],
  }).group;
  assert.equal(selectProtocol(g), "range");
  // A member with no assignor in common is refused.
  const r = join(g, input({ protocols: [{ name: "roundrobin", metadata: "" }] }), 0, CFG);
  assert.equal(
    (r.outcome as { response: { errorCode: number } }).response.errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
});

Deno.test("group state: members that never sync are removed at the sync deadline", () => {
  const a = joinNew(null, 0);
  const b = joinNew(a.group, 0);
  const g = tick(tick(b.group, 100, NO_HB, CFG), 200, NO_HB, CFG);
  assert.equal(g.state, "CompletingRebalance");
  const synced = sync(g, {
    memberId: a.memberId,
    groupInstanceId: null,
    generationId: g.generationId,
    protocolType: "consumer",
    protocolName: "range",
    assignments: [{ memberId: a.memberId, assignment: "AQ==" }],
  }, 220).group!;
  assert.equal(synced.state, "Stable");
  // b heartbeats (so its session lives) but never sends SyncGroup.
  const hb = new Map([[b.memberId, 5000], [a.memberId, 5000]]);
  assert.equal(tick(synced, 200 + 4999, hb, CFG).state, "Stable");
  const late = tick(synced, 200 + 5000, hb, CFG);
  assert.equal(late.state, "PreparingRebalance");
  assert.deepEqual(late.members.map((m) => m.memberId), [a.memberId]);
});

Deno.test("group state: heartbeat, commit and sync errors name the problem", () => {
  const a = joinNew(null, 0);
  const g = tick(a.group, 100, NO_HB, CFG);
  const gen = g.generationId;
  const hb = (memberId: string, generationId: number, groupInstanceId: string | null = null) =>
    heartbeat(g, { memberId, generationId, groupInstanceId });
  assert.equal(hb(a.memberId, gen), ErrorCode.NONE);
  assert.equal(hb(a.memberId, gen + 1), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(hb("nobody", gen), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(hb(a.memberId, gen, "not-static"), ErrorCode.UNKNOWN_MEMBER_ID);
  const commit = (generationId: number, memberId: string) =>
    validateOffsetCommit(g, { generationId, memberId, groupInstanceId: null });
  assert.equal(commit(gen, a.memberId), ErrorCode.REBALANCE_IN_PROGRESS, "before the sync");
  assert.equal(commit(gen - 1, a.memberId), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(commit(-1, ""), ErrorCode.UNKNOWN_MEMBER_ID, "outside commits need an Empty group");
  const wrongGen = sync(g, {
    memberId: a.memberId,
    groupInstanceId: null,
    generationId: gen + 5,
    protocolType: null,
    protocolName: null,
    assignments: [],
  }, 0);
  assert.equal(
    (wrongGen.outcome as { response: { errorCode: number } }).response.errorCode,
    ErrorCode.ILLEGAL_GENERATION,
  );
});
