/**
 * The Redis meta store's logic, shared by `redis:` (TCP, ioredis) and
 * `upstash:` (Upstash's REST API): every operation is one Lua script run
 * through a tiny {@link RedisEval} adapter, so both backends run the very same
 * scripts and a change that touches several keys is atomic on the server. Two
 * brokers can never assign the same offset or producer id.
 *
 * The key layout is documented at the top of `redis.ts`. Scripts build key
 * names from the prefix (ARGV[1]); KEYS[1] is always `<prefix>cluster`, which
 * routes the script on a cluster-aware proxy. On Redis Cluster put a hash tag in
 * the prefix (`?prefix={skb}:`) so every key lives in one slot.
 *
 * Numbers cross the Lua boundary as decimal strings (`string.format('%d')`),
 * never through `tostring` or cjson, which print 14 significant digits.
 */

import { ErrorCode } from "../../protocol/errors.ts";
import {
  producerOnPartition,
  type ProducerPartitionState,
  RECENT_BATCHES,
} from "../producer_state.ts";
import type {
  AbortedTransaction,
  BatchToCommit,
  BrokerRegistration,
  CleanerState,
  CleaningLease,
  CommitResult,
  CommittedOffset,
  EntityConfigs,
  IndexEntry,
  InitProducerIdInput,
  MetaStore,
  NewTopic,
  PartitionState,
  ProducerIdentity,
  ProducerOnPartition,
  TopicInfo,
  VersionedGroup,
  VersionedShareState,
  VersionedTransaction,
} from "../types.ts";
import { newTopicId } from "../ids.ts";
import { checkReplacement } from "./cleaning.ts";

/** What a backend must offer: EVALSHA and EVAL with keys and string arguments. */
export interface RedisEval {
  /** Runs a cached script; rejects with a message containing NOSCRIPT when it is not cached. */
  evalsha(sha1: string, keys: string[], args: string[]): Promise<unknown>;
  /** Runs (and caches) a script given in full. */
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

/** Helpers every script starts with. */
const PRELUDE = `
local P = ARGV[1]
local function istr(n) return string.format('%d', n) end
local function pkey(tid, p) return P .. 'p:' .. tid .. ':' .. p end
local function idxkey(tid, p) return P .. 'idx:' .. tid .. ':' .. p end
local function tskey(tid, p) return P .. 'ts:' .. tid .. ':' .. p end
local function ppkey(tid, p) return P .. 'pp:' .. tid .. ':' .. p end
local function otkey(tid, p) return P .. 'ot:' .. tid .. ':' .. p end
local function abkey(tid, p) return P .. 'ab:' .. tid .. ':' .. p end
-- The last stable offset (producer_state.ts lastStableOffsetOf) from the open transactions.
local function last_stable(tid, p, ls, hw)
  local first = redis.call('ZRANGE', otkey(tid, p), 0, 0, 'WITHSCORES')
  local lso = hw
  if #first > 0 and tonumber(first[2]) < lso then lso = tonumber(first[2]) end
  if lso < ls then lso = ls end
  return lso
end
local function entry_base(m) return tonumber(string.match(m, '^(%-?%d+)|')) end
-- base|last|position|length|maxTimestamp|blob
local function entry_fields(m)
  local b, l, pos, len, ts, blob = string.match(m, '^(%-?%d+)|(%-?%d+)|(%-?%d+)|(%-?%d+)|(%-?%d+)|(.*)$')
  return tonumber(b), tonumber(l), tonumber(pos), tonumber(len), tonumber(ts), blob
end
local function unref(blob)
  if redis.call('HINCRBY', P .. 'blobs', blob, -1) <= 0 then redis.call('HDEL', P .. 'blobs', blob) end
end
`;

/** Ports producer_state.ts (KIP-98 idempotence) to Lua: same verdicts, same state. */
const PRODUCER_RULES = `
local SEQ_MODULO = 2147483648
local RECENT_BATCHES = ${RECENT_BATCHES}
-- JavaScript's %: the sign follows the dividend.
local function last_seq(base, count) return math.fmod(base + count - 1, SEQ_MODULO) end
-- "epoch,lastSeq,first,last,offset,first,last,offset,...;txnStart,lastTimestamp" -> table, or
-- nil (states from before transactions have no ";...": no open transaction, no timestamp)
local function decode_producer(s)
  if not s then return nil end
  local head, tail = string.match(s, '^([^;]*);?(.*)$')
  local n = {}
  for x in string.gmatch(head, '[^,]+') do n[#n + 1] = tonumber(x) end
  local st = { epoch = n[1], lastSeq = n[2], recent = {}, txnStart = -1, lastTs = -1 }
  for i = 3, #n, 3 do st.recent[#st.recent + 1] = { n[i], n[i + 1], n[i + 2] } end
  local a, b = string.match(tail, '^(%-?%d+),(%-?%d+)$')
  if a then st.txnStart = tonumber(a); st.lastTs = tonumber(b) end
  return st
end
local function encode_producer(st)
  local parts = { istr(st.epoch), istr(st.lastSeq) }
  for _, b in ipairs(st.recent) do
    parts[#parts + 1] = istr(b[1]); parts[#parts + 1] = istr(b[2]); parts[#parts + 1] = istr(b[3])
  end
  return table.concat(parts, ',') .. ';' .. istr(st.txnStart) .. ',' .. istr(st.lastTs)
end
-- checkSequence: returns 'append' | 'duplicate', baseOffset | 'error', code
local function check_sequence(st, epoch, base_seq, count)
  if st == nil then return 'append' end
  if epoch < st.epoch then return 'error', ${ErrorCode.INVALID_PRODUCER_EPOCH} end
  if epoch > st.epoch then
    if base_seq == 0 then return 'append' end
    return 'error', ${ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER}
  end
  local ls = last_seq(base_seq, count)
  for _, b in ipairs(st.recent) do
    if b[1] == base_seq and b[2] == ls then return 'duplicate', b[3] end
  end
  if base_seq ~= math.fmod(st.lastSeq + 1, SEQ_MODULO) then
    return 'error', ${ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER}
  end
  return 'append'
end
-- afterAppend: a transactional batch opens a transaction unless one is open
local function after_append(st, epoch, base_seq, count, base_offset, transactional, max_ts)
  local ls = last_seq(base_seq, count)
  local recent = {}
  if st ~= nil and st.epoch == epoch then
    for _, b in ipairs(st.recent) do recent[#recent + 1] = b end
  end
  recent[#recent + 1] = { base_seq, ls, base_offset }
  while #recent > RECENT_BATCHES do table.remove(recent, 1) end
  local txn_start = -1
  if st ~= nil and st.txnStart >= 0 then
    txn_start = st.txnStart
  elseif transactional then
    txn_start = base_offset
  end
  return { epoch = epoch, lastSeq = ls, recent = recent, txnStart = txn_start, lastTs = max_ts }
end
-- checkMarker: returns 'append', firstOffset | 'duplicate' | 'error', code
local function check_marker(st, epoch)
  if st ~= nil and epoch < st.epoch then return 'error', ${ErrorCode.INVALID_PRODUCER_EPOCH} end
  if st == nil or st.txnStart < 0 then return 'duplicate' end
  return 'append', st.txnStart
end
-- afterMarker (st not nil): closes the transaction; a raised epoch restarts sequences
local function after_marker(st, epoch, max_ts, appended)
  local raised = epoch > st.epoch
  if not appended and not raised then return st end
  local out = { epoch = st.epoch, lastSeq = st.lastSeq, recent = st.recent, txnStart = -1,
    lastTs = st.lastTs }
  if raised then out.epoch = epoch; out.lastSeq = -1; out.recent = {} end
  if appended then out.lastTs = max_ts end
  return out
end
`;

/**
 * commitBatches: ARGV = prefix, blob, then 10 fields per batch (topicId,
 * partition, position, length, recordCount, maxTimestamp, producerId,
 * producerEpoch, baseSequence, kind: 0 data, 1 transactional data, 2 abort
 * marker, 3 commit marker). Returns {errorCode, baseOffset, logStartOffset,
 * duplicate} per batch.
 */
const COMMIT_BATCHES = PRELUDE + PRODUCER_RULES + `
local blob = ARGV[2]
-- Redis does not roll a script back when it fails half-way: check every input
-- before the first write.
local F = 10
if (#ARGV - 2) % F ~= 0 then return redis.error_reply('ERR commitBatches: bad argument count') end
for j = 3, #ARGV do
  if (j - 3) % F ~= 0 and tonumber(ARGV[j]) == nil then
    return redis.error_reply('ERR commitBatches: argument ' .. j .. ' is not a number')
  end
end
local parts = {}     -- pkey -> { ls, hw, runningMaxTs, dirty }
local producers = {} -- ppkey .. '|' .. pid -> state (false: none)
local dirty_producers = {}
local results = {}
local appended = 0
local function part(tid, p)
  local k = pkey(tid, p)
  local s = parts[k]
  if s == nil then
    local v = redis.call('HMGET', k, 'ls', 'hw', 'bytes')
    if not v[1] then
      s = false
    else
      local top = redis.call('ZREVRANGE', tskey(tid, p), 0, 0, 'WITHSCORES')
      local maxts = nil
      if #top > 0 then maxts = tonumber(top[2]) end
      -- bytes: nil until partitionSizes has counted a partition from before the count existed.
      s = { ls = tonumber(v[1]), hw = tonumber(v[2]), bytes = tonumber(v[3]), maxts = maxts,
        tid = tid, p = p, dirty = false }
    end
    parts[k] = s
  end
  return s
end
local i = 3
while i <= #ARGV do
  local tid, p = ARGV[i], ARGV[i + 1]
  local position, length = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local count, maxts = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
  local pid, epoch, base_seq = tonumber(ARGV[i + 6]), tonumber(ARGV[i + 7]), tonumber(ARGV[i + 8])
  local kind = tonumber(ARGV[i + 9])
  i = i + F
  local s = part(tid, p)
  if not s then
    results[#results + 1] = { ${ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}, -1, -1, 0 }
  else
    local verdict, value = 'append', nil
    local prk, prior
    if pid >= 0 then
      prk = ppkey(tid, p) .. '|' .. istr(pid)
      prior = producers[prk]
      if prior == nil then
        prior = decode_producer(redis.call('HGET', ppkey(tid, p), istr(pid))) or false
        producers[prk] = prior
      end
    end
    local marker = kind >= 2
    if marker then
      -- A transaction marker: one offset, no sequence (see MetaStore.commitBatches).
      verdict, value = check_marker(prior or nil, epoch)
      if verdict ~= 'error' and prior then
        local after = after_marker(prior, epoch, maxts, verdict == 'append')
        if after ~= prior then
          producers[prk] = after
          dirty_producers[prk] = { ppkey(tid, p), istr(pid), tid, p }
        end
      end
      if verdict == 'duplicate' then value = -1 end
    elseif pid >= 0 then
      verdict, value = check_sequence(prior or nil, epoch, base_seq, count)
    end
    if verdict == 'error' then
      results[#results + 1] = { value, -1, s.ls, 0 }
    elseif verdict == 'duplicate' then
      results[#results + 1] = { ${ErrorCode.NONE}, value, s.ls, 1 }
    else
      local base = s.hw
      if marker then
        count = 1
        if kind == 2 then
          redis.call('ZADD', abkey(tid, p), istr(base),
            istr(base) .. '|' .. istr(value) .. '|' .. istr(pid))
          -- The longest aborted range bounds abortedTransactions' scan.
          local span = base - value
          if span > tonumber(redis.call('HGET', pkey(tid, p), 'abspan') or '-1') then
            redis.call('HSET', pkey(tid, p), 'abspan', istr(span))
          end
        end
      elseif pid >= 0 then
        producers[prk] = after_append(prior or nil, epoch, base_seq, count, base, kind == 1, maxts)
        dirty_producers[prk] = { ppkey(tid, p), istr(pid), tid, p }
      end
      local last = base + count - 1
      redis.call('ZADD', idxkey(tid, p), istr(base),
        istr(base) .. '|' .. istr(last) .. '|' .. istr(position) .. '|' .. istr(length) .. '|' ..
        istr(maxts) .. '|' .. blob)
      -- The timestamp index keeps the batches that raise the running maximum.
      if s.maxts == nil or maxts > s.maxts then
        redis.call('ZADD', tskey(tid, p), istr(maxts), istr(base))
        s.maxts = maxts
      end
      s.hw = base + count
      if s.bytes then s.bytes = s.bytes + length end
      s.dirty = true
      appended = appended + 1
      results[#results + 1] = { ${ErrorCode.NONE}, base, s.ls, 0 }
    end
  end
end
-- Producer states and their open transactions first, then the last stable offsets from them.
local touched = {}
for prk, at in pairs(dirty_producers) do
  local st = producers[prk]
  redis.call('HSET', at[1], at[2], encode_producer(st))
  if st.txnStart >= 0 then
    redis.call('ZADD', otkey(at[3], at[4]), istr(st.txnStart), at[2])
  else
    redis.call('ZREM', otkey(at[3], at[4]), at[2])
  end
  touched[pkey(at[3], at[4])] = true
end
for k, s in pairs(parts) do
  if s and (s.dirty or touched[k]) then
    redis.call('HSET', k, 'hw', istr(s.hw), 'lso', istr(last_stable(s.tid, s.p, s.ls, s.hw)))
    if s.bytes then redis.call('HSET', k, 'bytes', istr(s.bytes)) end
  end
end
if appended > 0 then redis.call('HINCRBY', P .. 'blobs', blob, appended) end
return results
`;

/** readIndex: ARGV = prefix, topicId, partition, fromOffset, maxBytes, maxEntries. */
const READ_INDEX = PRELUDE + `
local idx = idxkey(ARGV[2], ARGV[3])
local from, max_bytes, max_entries = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
-- The entry holding fromOffset starts at or before it.
local before = redis.call('ZREVRANGEBYSCORE', idx, istr(from), '-inf', 'LIMIT', 0, 1)
local min = istr(from)
if #before > 0 then min = istr(entry_base(before[1])) end
local out, bytes = {}, 0
while true do
  local chunk = redis.call('ZRANGEBYSCORE', idx, min, '+inf', 'LIMIT', 0, 100)
  for _, m in ipairs(chunk) do
    local b, l, _, len = entry_fields(m)
    if l >= from then
      if #out > 0 and (bytes + len > max_bytes or #out >= max_entries) then return out end
      out[#out + 1] = m
      bytes = bytes + len
    end
    min = '(' .. istr(b)
  end
  if #chunk < 100 then return out end
end
`;

/** findByTimestamp: ARGV = prefix, topicId, partition, timestamp. */
const FIND_BY_TIMESTAMP = PRELUDE + `
local hit = redis.call('ZRANGEBYSCORE', tskey(ARGV[2], ARGV[3]), ARGV[4], '+inf', 'LIMIT', 0, 1)
if #hit == 0 then return false end
local e = redis.call('ZRANGEBYSCORE', idxkey(ARGV[2], ARGV[3]), hit[1], hit[1])
return e[1] or false
`;

/** maxTimestampEntry: ARGV = prefix, topicId, partition. */
const MAX_TIMESTAMP_ENTRY = PRELUDE + `
local top = redis.call('ZREVRANGE', tskey(ARGV[2], ARGV[3]), 0, 0)
if #top == 0 then return false end
local e = redis.call('ZRANGEBYSCORE', idxkey(ARGV[2], ARGV[3]), top[1], top[1])
return e[1] or false
`;

/**
 * advanceLogStart: ARGV = prefix, topicId, partition, offset. Drops entries
 * wholly below the new start and repairs the timestamp index: records that
 * survive stay records; new ones can only appear before the first survivor.
 */
const ADVANCE_LOG_START = PRELUDE + `
local tid, p = ARGV[2], ARGV[3]
local k = pkey(tid, p)
local v = redis.call('HMGET', k, 'ls', 'hw')
if not v[1] then return -1 end
local ls, hw = tonumber(v[1]), tonumber(v[2])
local target = math.min(tonumber(ARGV[4]), hw)
if target <= ls then return ls end
redis.call('HSET', k, 'ls', istr(target), 'lso', istr(last_stable(tid, p, target, hw)))
-- Aborted ranges wholly below the new start are forgotten.
redis.call('ZREMRANGEBYSCORE', abkey(tid, p), '-inf', '(' .. istr(target))
local idx, ts = idxkey(tid, p), tskey(tid, p)
-- The log cleaner's count of clean bytes (cleaner.ts) loses the clean entries that go.
local ck = P .. 'cl:' .. tid .. ':' .. p
local cleaned_through = tonumber(redis.call('HGET', ck, 'ct') or '-1')
local removed_bytes, removed_clean = 0, 0
while true do
  local chunk = redis.call('ZRANGEBYSCORE', idx, '-inf', '(' .. istr(target), 'LIMIT', 0, 100)
  local removed = 0
  for _, m in ipairs(chunk) do
    local b, l, _, len, _, blob = entry_fields(m)
    if l < target then
      redis.call('ZREM', idx, m)
      unref(blob)
      removed = removed + 1
      removed_bytes = removed_bytes + len
      if l < cleaned_through then removed_clean = removed_clean + len end
    end
  end
  if removed < 100 then break end
end
if redis.call('HEXISTS', k, 'bytes') == 1 then redis.call('HINCRBY', k, 'bytes', istr(-removed_bytes)) end
if removed_clean > 0 then redis.call('HINCRBY', ck, 'cb', istr(-removed_clean)) end
local first = redis.call('ZRANGE', idx, 0, 0)
if #first == 0 then
  redis.call('DEL', ts)
  return target
end
local first_base = entry_base(first[1])
-- Old records below the first remaining entry are gone.
while true do
  local head = redis.call('ZRANGE', ts, 0, 0)
  if #head == 0 or tonumber(head[1]) >= first_base then break end
  redis.call('ZREM', ts, head[1])
end
local survivor = redis.call('ZRANGE', ts, 0, 0)
local stop = '+inf'
if #survivor > 0 then stop = '(' .. survivor[1] end
local running = nil
local min = istr(first_base)
while true do
  local chunk = redis.call('ZRANGEBYSCORE', idx, min, stop, 'LIMIT', 0, 100)
  for _, m in ipairs(chunk) do
    local b, _, _, _, mt = entry_fields(m)
    if running == nil or mt > running then
      redis.call('ZADD', ts, istr(mt), istr(b))
      running = mt
    end
    min = '(' .. istr(b)
  end
  if #chunk < 100 then break end
end
return target
`;

/**
 * partitionSizes: ARGV = prefix, topicId, partitions. Each partition's hash
 * keeps a running byte count ('bytes'), raised by commitBatches and lowered by
 * advanceLogStart, so this reads one field per partition. A partition from
 * before the count existed has no field: its index is summed once here and the
 * count kept from then on.
 */
const PARTITION_SIZES = PRELUDE + `
local out = {}
for p = 0, tonumber(ARGV[3]) - 1 do
  local k = pkey(ARGV[2], istr(p))
  local v = redis.call('HMGET', k, 'ls', 'bytes')
  local bytes = 0
  if v[1] and v[2] then
    bytes = tonumber(v[2])
  elseif v[1] then
    local idx = idxkey(ARGV[2], istr(p))
    local start = 0
    while true do
      local chunk = redis.call('ZRANGE', idx, start, start + 499)
      for _, m in ipairs(chunk) do
        local _, _, _, len = entry_fields(m)
        bytes = bytes + len
      end
      if #chunk < 500 then break end
      start = start + 500
    end
    redis.call('HSET', k, 'bytes', istr(bytes))
  end
  out[#out + 1] = istr(bytes)
end
return out
`;

/** partitionState: ARGV = prefix, topicId, partition. */
const PARTITION_STATE = PRELUDE + `
local v = redis.call('HMGET', pkey(ARGV[2], ARGV[3]), 'ls', 'hw', 'lso')
if not v[1] then return false end
return { tonumber(v[1]), tonumber(v[2]), tonumber(v[3]) }
`;

/**
 * abortedTransactions: ARGV = prefix, topicId, partition, fromOffset, toOffset.
 * Flat {producerId, firstOffset, lastOffset, ...} of those whose marker is at
 * or after fromOffset and that begin before toOffset (the caller sorts); the
 * scan ends at toOffset plus the partition's longest aborted range ('abspan').
 */
const ABORTED_TRANSACTIONS = PRELUDE + `
local to = tonumber(ARGV[5])
local out = {}
local min = ARGV[4]
-- None whose marker is at or past toOffset + the longest span can begin before toOffset.
local span = redis.call('HGET', pkey(ARGV[2], ARGV[3]), 'abspan')
local max = '+inf'
if span then max = '(' .. istr(to + tonumber(span)) end
while true do
  local chunk = redis.call('ZRANGEBYSCORE', abkey(ARGV[2], ARGV[3]), min, max, 'LIMIT', 0, 200)
  for _, m in ipairs(chunk) do
    local l, f, pid = string.match(m, '^(%-?%d+)|(%-?%d+)|(%-?%d+)$')
    if tonumber(f) < to then
      out[#out + 1] = pid; out[#out + 1] = f; out[#out + 1] = l
    end
    min = '(' .. l
  end
  if #chunk < 200 then return out end
end
`;

/** producerStates: ARGV = prefix, topicId, partition. Flat {producerId, state, ...}. */
const PRODUCER_STATES = PRELUDE + `
return redis.call('HGETALL', ppkey(ARGV[2], ARGV[3]))
`;

/** getTransaction: ARGV = prefix, transactionalId. Returns {version, state} or false. */
const GET_TRANSACTION = PRELUDE + `
local v = redis.call('HMGET', P .. 'tx:' .. ARGV[2], 'version', 'state')
if not v[1] then return false end
return { tonumber(v[1]), v[2] }
`;

/**
 * putTransaction (compare-and-set): ARGV = prefix, transactionalId,
 * expectedVersion, delete ('1'/'0'), state. Returns the new version, or false.
 */
const PUT_TRANSACTION = PRELUDE + `
local k = P .. 'tx:' .. ARGV[2]
local current = tonumber(redis.call('HGET', k, 'version') or '0')
if current ~= tonumber(ARGV[3]) then return false end
if ARGV[4] == '1' then
  redis.call('DEL', k)
  redis.call('SREM', P .. 'txs', ARGV[2])
  return current + 1
end
redis.call('HSET', k, 'version', istr(current + 1), 'state', ARGV[5])
redis.call('SADD', P .. 'txs', ARGV[2])
return current + 1
`;

/** listTransactions: ARGV = prefix. Flat {transactionalId, version, state, ...}. */
const LIST_TRANSACTIONS = PRELUDE + `
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'txs')) do
  local v = redis.call('HMGET', P .. 'tx:' .. id, 'version', 'state')
  if v[1] then
    out[#out + 1] = id; out[#out + 1] = tonumber(v[1]); out[#out + 1] = v[2]
  end
end
return out
`;

/**
 * Share-partition records (KIP-932) live in one hash per group, field
 * "topicId:partition" -> "version|state".
 * getShareState: ARGV = prefix, groupId, field. Returns {version, state} or false.
 */
const GET_SHARE_STATE = PRELUDE + `
local v = redis.call('HGET', P .. 'share:' .. ARGV[2], ARGV[3])
if not v then return false end
local bar = string.find(v, '|', 1, true)
return { tonumber(string.sub(v, 1, bar - 1)), string.sub(v, bar + 1) }
`;

/**
 * putShareState (compare-and-set): ARGV = prefix, groupId, field,
 * expectedVersion, delete ('1'/'0'), state. Returns the new version, or false.
 */
const PUT_SHARE_STATE = PRELUDE + `
local k = P .. 'share:' .. ARGV[2]
local v = redis.call('HGET', k, ARGV[3])
local current = 0
if v then current = tonumber(string.sub(v, 1, string.find(v, '|', 1, true) - 1)) end
if current ~= tonumber(ARGV[4]) then return false end
if ARGV[5] == '1' then
  redis.call('HDEL', k, ARGV[3])
else
  redis.call('HSET', k, ARGV[3], istr(current + 1) .. '|' .. ARGV[6])
end
return current + 1
`;

/** listShareStates: ARGV = prefix, groupId. Flat {field, "version|state", ...}. */
const LIST_SHARE_STATES = PRELUDE + `
return redis.call('HGETALL', P .. 'share:' .. ARGV[2])
`;

/** createTopic: ARGV = prefix, name, id, partitions, configs (JSON). */
const CREATE_TOPIC = PRELUDE + `
if redis.call('HSETNX', P .. 'topics', ARGV[2], ARGV[3]) == 0 then return 0 end
redis.call('HSET', P .. 'topic:' .. ARGV[3], 'name', ARGV[2], 'partitions', ARGV[4], 'configs', ARGV[5])
for p = 0, tonumber(ARGV[4]) - 1 do
  redis.call('HSET', pkey(ARGV[3], istr(p)), 'ls', '0', 'hw', '0', 'lso', '0', 'bytes', '0')
end
return 1
`;

/**
 * deleteTopic: ARGV = prefix, name. Removes the partitions' index, producer
 * state, cleaner state and blob references.
 */
const DELETE_TOPIC = PRELUDE + `
local id = redis.call('HGET', P .. 'topics', ARGV[2])
if not id then return 0 end
local n = tonumber(redis.call('HGET', P .. 'topic:' .. id, 'partitions') or '0')
for p = 0, n - 1 do
  local idx = idxkey(id, istr(p))
  local start = 0
  while true do
    local chunk = redis.call('ZRANGE', idx, start, start + 499)
    for _, m in ipairs(chunk) do
      local _, _, _, _, _, blob = entry_fields(m)
      unref(blob)
    end
    if #chunk < 500 then break end
    start = start + 500
  end
  redis.call('DEL', idx, tskey(id, istr(p)), ppkey(id, istr(p)), pkey(id, istr(p)),
    P .. 'cl:' .. id .. ':' .. istr(p), otkey(id, istr(p)), abkey(id, istr(p)))
end
redis.call('DEL', P .. 'topic:' .. id)
redis.call('HDEL', P .. 'topics', ARGV[2])
return 1
`;

/** createPartitions: ARGV = prefix, name, count. Returns the topic like GET_TOPIC, or false. */
const CREATE_PARTITIONS = PRELUDE + `
local id = redis.call('HGET', P .. 'topics', ARGV[2])
if not id then return false end
local tk = P .. 'topic:' .. id
local n = tonumber(redis.call('HGET', tk, 'partitions'))
local want = tonumber(ARGV[3])
for p = n, want - 1 do
  redis.call('HSET', pkey(id, istr(p)), 'ls', '0', 'hw', '0', 'lso', '0', 'bytes', '0')
end
if want > n then redis.call('HSET', tk, 'partitions', istr(want)) end
local v = redis.call('HMGET', tk, 'name', 'partitions', 'configs')
return { id, v[1], v[2], v[3] }
`;

/** setTopicConfigs: ARGV = prefix, name, configs (JSON). */
const SET_TOPIC_CONFIGS = PRELUDE + `
local id = redis.call('HGET', P .. 'topics', ARGV[2])
if not id then return 0 end
redis.call('HSET', P .. 'topic:' .. id, 'configs', ARGV[3])
return 1
`;

/** getTopic: ARGV = prefix, name or '', id or ''. Returns {id, name, partitions, configs} or false. */
const GET_TOPIC = PRELUDE + `
local id = ARGV[3]
if id == '' then
  id = redis.call('HGET', P .. 'topics', ARGV[2])
  if not id then return false end
end
local v = redis.call('HMGET', P .. 'topic:' .. id, 'name', 'partitions', 'configs')
if not v[1] then return false end
return { id, v[1], v[2], v[3] }
`;

/** listTopics: ARGV = prefix. Flat {id, name, partitions, configs, ...}. */
const LIST_TOPICS = PRELUDE + `
local ids = redis.call('HVALS', P .. 'topics')
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('HMGET', P .. 'topic:' .. id, 'name', 'partitions', 'configs')
  if v[1] then
    out[#out + 1] = id; out[#out + 1] = v[1]; out[#out + 1] = v[2]; out[#out + 1] = v[3]
  end
end
return out
`;

/** clusterId: ARGV = prefix, proposed. */
const CLUSTER_ID = PRELUDE + `
redis.call('SET', P .. 'cluster', ARGV[2], 'NX')
return redis.call('GET', P .. 'cluster')
`;

/**
 * initProducerId: ARGV = prefix, hasTransactionalId ('1'/'0'),
 * transactionalId, producerId, producerEpoch. Returns {errorCode, id, epoch}.
 */
const INIT_PRODUCER_ID = PRELUDE + `
local producers = P .. 'producers'
local function allocate()
  redis.call('SETNX', P .. 'next_pid', '999')
  local id = redis.call('INCR', P .. 'next_pid')
  redis.call('HSET', producers, istr(id), '0')
  return id
end
-- A higher epoch for the same id; a fresh id once the epoch would overflow int16.
local function bump(id, epoch)
  if epoch >= 32766 then return { 0, allocate(), 0 } end
  redis.call('HSET', producers, istr(id), istr(epoch + 1))
  return { 0, id, epoch + 1 }
end
local pid, pepoch = tonumber(ARGV[4]), tonumber(ARGV[5])
if ARGV[2] == '0' then
  if pid >= 0 then
    -- KIP-360: an idempotent producer bumping its own epoch after an error.
    local cur = redis.call('HGET', producers, istr(pid))
    if not cur or tonumber(cur) ~= pepoch then
      return { ${ErrorCode.INVALID_PRODUCER_EPOCH}, -1, -1 }
    end
    return bump(pid, tonumber(cur))
  end
  return { 0, allocate(), 0 }
end
local txn = P .. 'txn'
local existing = redis.call('HGET', txn, ARGV[3])
local out
if existing then
  local id, epoch = string.match(existing, '^(%d+),(%d+)$')
  out = bump(tonumber(id), tonumber(epoch))
else
  out = { 0, allocate(), 0 }
end
redis.call('HSET', txn, ARGV[3], istr(out[2]) .. ',' .. istr(out[3]))
return out
`;

/** referencedBlobs: ARGV = prefix. */
const REFERENCED_BLOBS = PRELUDE + `
return redis.call('HKEYS', P .. 'blobs')
`;

/** registerBroker: ARGV = prefix, nodeId, registration (JSON). */
const REGISTER_BROKER = PRELUDE + `
redis.call('HSET', P .. 'brokers', ARGV[2], ARGV[3])
return 1
`;

/** unregisterBroker: ARGV = prefix, nodeId. */
const UNREGISTER_BROKER = PRELUDE + `
redis.call('HDEL', P .. 'brokers', ARGV[2])
return 1
`;

/** liveBrokers: ARGV = prefix. Every registration (JSON); the caller drops expired ones. */
const LIST_BROKERS = PRELUDE + `
return redis.call('HVALS', P .. 'brokers')
`;

/** getGroup: ARGV = prefix, groupId. Returns {version, state} or false. */
const GET_GROUP = PRELUDE + `
local v = redis.call('HMGET', P .. 'group:' .. ARGV[2], 'version', 'state')
if not v[1] then return false end
return { tonumber(v[1]), v[2] }
`;

/**
 * putGroup (compare-and-set): ARGV = prefix, groupId, expectedVersion,
 * delete ('1'/'0'), state. Returns the new version, or false.
 */
const PUT_GROUP = PRELUDE + `
local gk = P .. 'group:' .. ARGV[2]
local current = tonumber(redis.call('HGET', gk, 'version') or '0')
if current ~= tonumber(ARGV[3]) then return false end
if ARGV[4] == '1' then
  redis.call('DEL', gk, P .. 'hb:' .. ARGV[2], P .. 'off:' .. ARGV[2])
  redis.call('SREM', P .. 'groups', ARGV[2])
  return current + 1
end
redis.call('HSET', gk, 'version', istr(current + 1), 'state', ARGV[5])
redis.call('SADD', P .. 'groups', ARGV[2])
return current + 1
`;

/** listGroups: ARGV = prefix. Flat {groupId, version, state, ...}. */
const LIST_GROUPS = PRELUDE + `
local out = {}
for _, g in ipairs(redis.call('SMEMBERS', P .. 'groups')) do
  local v = redis.call('HMGET', P .. 'group:' .. g, 'version', 'state')
  if v[1] then
    out[#out + 1] = g; out[#out + 1] = tonumber(v[1]); out[#out + 1] = v[2]
  end
end
return out
`;

/** touchMember: ARGV = prefix, groupId, memberId, atMs. */
const TOUCH_MEMBER = PRELUDE + `
redis.call('HSET', P .. 'hb:' .. ARGV[2], ARGV[3], ARGV[4])
return 1
`;

/** memberHeartbeats: ARGV = prefix, groupId. Flat {member, atMs, ...}. */
const MEMBER_HEARTBEATS = PRELUDE + `
return redis.call('HGETALL', P .. 'hb:' .. ARGV[2])
`;

/** forgetMembers: ARGV = prefix, groupId, then member ids (the hash goes with its last field). */
const FORGET_MEMBERS = PRELUDE + `
local k = P .. 'hb:' .. ARGV[2]
for i = 3, #ARGV do redis.call('HDEL', k, ARGV[i]) end
return 1
`;

/** commitOffsets: ARGV = prefix, groupId, then field, value pairs. */
const COMMIT_OFFSETS = PRELUDE + `
local k = P .. 'off:' .. ARGV[2]
for i = 3, #ARGV, 2 do redis.call('HSET', k, ARGV[i], ARGV[i + 1]) end
return 1
`;

/** fetchOffsets: ARGV = prefix, groupId, then fields (none: all). Returns values (false when absent). */
const FETCH_OFFSETS = PRELUDE + `
local k = P .. 'off:' .. ARGV[2]
if #ARGV == 2 then return redis.call('HVALS', k) end
local out = {}
for i = 3, #ARGV do out[#out + 1] = redis.call('HGET', k, ARGV[i]) end
return out
`;

/** deleteOffsets: ARGV = prefix, groupId, then fields. */
const DELETE_OFFSETS = PRELUDE + `
local k = P .. 'off:' .. ARGV[2]
for i = 3, #ARGV do redis.call('HDEL', k, ARGV[i]) end
return 1
`;

/**
 * entityConfigs: ARGV = prefix, entity type, '1' for every entity or '0' for
 * the names that follow. Flat {name, version, configs (JSON), ...}.
 */
const ENTITY_CONFIGS = PRELUDE + `
local ck, vk = P .. 'cfg:' .. ARGV[2], P .. 'cfgv:' .. ARGV[2]
local out = {}
local function add(name)
  local c = redis.call('HGET', ck, name)
  if c then
    out[#out + 1] = name
    out[#out + 1] = redis.call('HGET', vk, name) or '0'
    out[#out + 1] = c
  end
end
if ARGV[3] == '1' then
  for _, name in ipairs(redis.call('HKEYS', ck)) do add(name) end
else
  for j = 4, #ARGV do add(ARGV[j]) end
end
return out
`;

/**
 * alterEntityConfigs: ARGV = prefix, entity type, name, expected version ('':
 * any), changes as JSON (null values remove). Returns {version, configs
 * (JSON)}, or false when the version did not match.
 */
const ALTER_ENTITY_CONFIGS = PRELUDE + `
local ck, vk = P .. 'cfg:' .. ARGV[2], P .. 'cfgv:' .. ARGV[2]
local name = ARGV[3]
local version = tonumber(redis.call('HGET', vk, name) or '0')
if ARGV[4] ~= '' and tonumber(ARGV[4]) ~= version then return false end
local raw = redis.call('HGET', ck, name)
local configs = {}
if raw then configs = cjson.decode(raw) end
local n = 0
for k, v in pairs(cjson.decode(ARGV[5])) do
  if v == cjson.null then configs[k] = nil else configs[k] = v end
end
for _ in pairs(configs) do n = n + 1 end
if n == 0 then
  redis.call('HDEL', ck, name)
  redis.call('HDEL', vk, name)
  return { '0', '{}' }
end
local encoded = cjson.encode(configs)
redis.call('HSET', ck, name, encoded)
redis.call('HSET', vk, name, istr(version + 1))
return { istr(version + 1), encoded }
`;

/** Helpers of the log cleaner's scripts (KIP-58): the cleaner hash and byte counts. */
const CLEANER_HELPERS = `
local function clkey(tid, p) return P .. 'cl:' .. tid .. ':' .. p end
-- Bytes of the entries that end in [from, to) (to: nil for no end), from the entry holding from.
local function bytes_between(idx, from, to)
  local before = redis.call('ZREVRANGEBYSCORE', idx, istr(from), '-inf', 'LIMIT', 0, 1)
  local min = istr(from)
  if #before > 0 then min = istr(entry_base(before[1])) end
  local max = '+inf'
  if to then max = '(' .. istr(to) end
  local bytes = 0
  while true do
    local chunk = redis.call('ZRANGEBYSCORE', idx, min, max, 'LIMIT', 0, 100)
    for _, m in ipairs(chunk) do
      local b, l, _, len = entry_fields(m)
      if l >= from and (to == nil or l < to) then bytes = bytes + len end
      min = '(' .. istr(b)
    end
    if #chunk < 100 then return bytes end
  end
end
`;

/**
 * claimCleaning: ARGV = prefix, topicId, partition, owner, nowMs, leaseMs.
 * Returns 1 when claimed or renewed, 0 when another owner's lease runs or the
 * partition does not exist.
 */
const CLAIM_CLEANING = PRELUDE + CLEANER_HELPERS + `
local tid, p, owner = ARGV[2], ARGV[3], ARGV[4]
local ls = redis.call('HGET', pkey(tid, p), 'ls')
if not ls then return 0 end
local ck = clkey(tid, p)
local c = redis.call('HMGET', ck, 'owner', 'until', 'ct')
local now = tonumber(ARGV[5])
if c[1] and c[1] ~= owner and tonumber(c[2]) > now then return 0 end
if not c[3] then redis.call('HSET', ck, 'ct', ls, 'cb', '0') end
redis.call('HSET', ck, 'owner', owner, 'until', istr(now + tonumber(ARGV[6])))
return 1
`;

/** releaseCleaning: ARGV = prefix, topicId, partition, owner. */
const RELEASE_CLEANING = PRELUDE + CLEANER_HELPERS + `
local ck = clkey(ARGV[2], ARGV[3])
if redis.call('HGET', ck, 'owner') == ARGV[4] then redis.call('HDEL', ck, 'owner', 'until') end
return 1
`;

/** cleaningLease: ARGV = prefix, topicId, partition. Returns {owner, until} or false. */
const CLEANING_LEASE = PRELUDE + CLEANER_HELPERS + `
local c = redis.call('HMGET', clkey(ARGV[2], ARGV[3]), 'owner', 'until')
if not c[1] then return false end
return { c[1], c[2] }
`;

/**
 * cleanerState: ARGV = prefix, topicId, partition. Returns {cleanedThrough,
 * cleanBytes, dirtyBytes} or false. The clean bytes are the cleaner hash's
 * running count, the dirty ones the partition's byte count less them.
 */
const CLEANER_STATE = PRELUDE + CLEANER_HELPERS + `
local tid, p = ARGV[2], ARGV[3]
local k = pkey(tid, p)
local v = redis.call('HMGET', k, 'ls', 'bytes')
if not v[1] then return false end
local c = redis.call('HMGET', clkey(tid, p), 'ct', 'cb')
local ct = math.max(tonumber(c[1] or '0'), tonumber(v[1]))
local cb = tonumber(c[2] or '0')
local total = tonumber(v[2])
if total == nil then
  -- A partition from before the byte count existed: count it once (as partitionSizes does).
  total = bytes_between(idxkey(tid, p), 0, nil)
  redis.call('HSET', k, 'bytes', istr(total))
end
return { istr(ct), istr(cb), istr(total - cb) }
`;

/**
 * replaceIndexEntries: ARGV = prefix, topicId, partition, owner, nowMs,
 * cleanedThrough, count of expected entries, then 5 fields per expected entry
 * (base, last, position, length, blob), then 6 per replacement entry (base,
 * last, position, length, maxTimestamp, blob). Returns 1 when swapped, else 0.
 *
 * Cost: the expected and replacement entries, a binary search of the
 * timestamp index, and the entries after the range up to the next timestamp
 * record that survives (those whose record status may change).
 */
const REPLACE_INDEX_ENTRIES = PRELUDE + CLEANER_HELPERS + `
local tid, p, owner = ARGV[2], ARGV[3], ARGV[4]
local k = pkey(tid, p)
local v = redis.call('HMGET', k, 'ls', 'hw', 'bytes')
if not v[1] then return 0 end
local ck = clkey(tid, p)
local c = redis.call('HMGET', ck, 'owner', 'until', 'ct', 'cb')
if c[1] ~= owner or tonumber(c[2] or '0') <= tonumber(ARGV[5]) then return 0 end
local ls, hw = tonumber(v[1]), tonumber(v[2])
local ct = math.max(tonumber(c[3] or '0'), ls)
local cb = tonumber(c[4] or '0')
local ne = tonumber(ARGV[7])
local idx, ts = idxkey(tid, p), tskey(tid, p)
local rstart = 8 + ne * 5
if ne > 0 then
  local cur = redis.call('ZRANGEBYSCORE', idx, ARGV[8], ARGV[8 + (ne - 1) * 5])
  if #cur ~= ne then return 0 end
  for i = 1, ne do
    local b, l, pos, len, _, blob = entry_fields(cur[i])
    local j = 8 + (i - 1) * 5
    if b ~= tonumber(ARGV[j]) or l ~= tonumber(ARGV[j + 1]) or pos ~= tonumber(ARGV[j + 2])
      or len ~= tonumber(ARGV[j + 3]) or blob ~= ARGV[j + 4] then
      return 0
    end
  end
  local range_from = tonumber(ARGV[8])
  local range_to = tonumber(ARGV[8 + (ne - 1) * 5 + 1])
  -- Timestamp records (both score and member increase with rank): how many lie before base.
  local function records_before(base)
    local lo, hi = 0, redis.call('ZCARD', ts)
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if tonumber(redis.call('ZRANGE', ts, mid, mid)[1]) < base then lo = mid + 1 else hi = mid end
    end
    return lo
  end
  local r_lo = records_before(range_from)
  local r_hi = records_before(range_to + 1)
  local running = nil
  if r_lo > 0 then running = tonumber(redis.call('ZRANGE', ts, r_lo - 1, r_lo - 1, 'WITHSCORES')[2]) end
  if r_hi > r_lo then redis.call('ZREMRANGEBYRANK', ts, r_lo, r_hi - 1) end
  local delta = 0
  for i = 1, ne do
    local _, l, _, len, _, blob = entry_fields(cur[i])
    redis.call('ZREM', idx, cur[i])
    unref(blob)
    delta = delta - len
    if l < ct then cb = cb - len end
  end
  local records = {}
  for j = rstart, #ARGV, 6 do
    local b, l, len, mt = tonumber(ARGV[j]), tonumber(ARGV[j + 1]), tonumber(ARGV[j + 3]), tonumber(ARGV[j + 4])
    if l >= ls then
      local m = ARGV[j] .. '|' .. ARGV[j + 1] .. '|' .. ARGV[j + 2] .. '|' .. ARGV[j + 3] .. '|' .. ARGV[j + 4] .. '|' .. ARGV[j + 5]
      redis.call('ZADD', idx, ARGV[j], m)
      redis.call('HINCRBY', P .. 'blobs', ARGV[j + 5], 1)
      delta = delta + len
      if l < ct then cb = cb + len end
      if running == nil or mt > running then
        records[#records + 1] = { ARGV[j + 4], ARGV[j] }
        running = mt
      end
    end
  end
  -- Records after the range that no longer raise the running maximum go; the
  -- first that still does (and every one after it) stays.
  local stop = '+inf'
  while true do
    local head = redis.call('ZRANGE', ts, r_lo, r_lo, 'WITHSCORES')
    if #head == 0 then break end
    if running == nil or tonumber(head[2]) > running then
      stop = '(' .. head[1]
      break
    end
    redis.call('ZREM', ts, head[1])
  end
  for _, r in ipairs(records) do redis.call('ZADD', ts, r[1], r[2]) end
  -- Entries between the range and that record may raise the maximum now.
  local min = '(' .. istr(range_to)
  while true do
    local chunk = redis.call('ZRANGEBYSCORE', idx, min, stop, 'LIMIT', 0, 100)
    for _, m in ipairs(chunk) do
      local b, _, _, _, mt = entry_fields(m)
      if running == nil or mt > running then
        redis.call('ZADD', ts, istr(mt), istr(b))
        running = mt
      end
      min = '(' .. istr(b)
    end
    if #chunk < 100 then break end
  end
  if v[3] then redis.call('HINCRBY', k, 'bytes', istr(delta)) end
end
local next_ct = math.max(ct, math.min(tonumber(ARGV[6]), hw))
if next_ct > ct then cb = cb + bytes_between(idx, ct, next_ct) end
redis.call('HSET', ck, 'ct', istr(next_ct), 'cb', istr(cb))
return 1
`;

/** ping: proves the server runs scripts, which this store needs. */
const PING = `return 'PONG'`;

/** Every script by name, as `SCRIPT LOAD` would cache it. */
export const SCRIPTS = {
  commitBatches: COMMIT_BATCHES,
  readIndex: READ_INDEX,
  findByTimestamp: FIND_BY_TIMESTAMP,
  maxTimestampEntry: MAX_TIMESTAMP_ENTRY,
  advanceLogStart: ADVANCE_LOG_START,
  partitionState: PARTITION_STATE,
  partitionSizes: PARTITION_SIZES,
  createTopic: CREATE_TOPIC,
  deleteTopic: DELETE_TOPIC,
  createPartitions: CREATE_PARTITIONS,
  setTopicConfigs: SET_TOPIC_CONFIGS,
  getTopic: GET_TOPIC,
  listTopics: LIST_TOPICS,
  clusterId: CLUSTER_ID,
  initProducerId: INIT_PRODUCER_ID,
  referencedBlobs: REFERENCED_BLOBS,
  registerBroker: REGISTER_BROKER,
  unregisterBroker: UNREGISTER_BROKER,
  listBrokers: LIST_BROKERS,
  abortedTransactions: ABORTED_TRANSACTIONS,
  producerStates: PRODUCER_STATES,
  getTransaction: GET_TRANSACTION,
  putTransaction: PUT_TRANSACTION,
  listTransactions: LIST_TRANSACTIONS,
  getShareState: GET_SHARE_STATE,
  putShareState: PUT_SHARE_STATE,
  listShareStates: LIST_SHARE_STATES,
  getGroup: GET_GROUP,
  putGroup: PUT_GROUP,
  listGroups: LIST_GROUPS,
  touchMember: TOUCH_MEMBER,
  memberHeartbeats: MEMBER_HEARTBEATS,
  forgetMembers: FORGET_MEMBERS,
  commitOffsets: COMMIT_OFFSETS,
  fetchOffsets: FETCH_OFFSETS,
  deleteOffsets: DELETE_OFFSETS,
  entityConfigs: ENTITY_CONFIGS,
  alterEntityConfigs: ALTER_ENTITY_CONFIGS,
  claimCleaning: CLAIM_CLEANING,
  releaseCleaning: RELEASE_CLEANING,
  cleaningLease: CLEANING_LEASE,
  cleanerState: CLEANER_STATE,
  replaceIndexEntries: REPLACE_INDEX_ENTRIES,
  ping: PING,
} as const;

/** A script's name. */
export type ScriptName = keyof typeof SCRIPTS;

const shas = new Map<ScriptName, Promise<string>>();

/** The SHA-1 that EVALSHA names a script by. */
export function scriptSha(name: ScriptName): Promise<string> {
  let sha = shas.get(name);
  if (!sha) {
    sha = crypto.subtle.digest("SHA-1", new TextEncoder().encode(SCRIPTS[name])).then((d) =>
      [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("")
    );
    shas.set(name, sha);
  }
  return sha;
}

/** Most index entries one readIndex returns (bounds the script's run time). */
const MAX_INDEX_ENTRIES = 1000;

function parseEntry(m: unknown): IndexEntry {
  const s = String(m);
  const fields: number[] = [];
  let at = 0;
  for (let i = 0; i < 5; i++) {
    const bar = s.indexOf("|", at);
    fields.push(Number(s.slice(at, bar)));
    at = bar + 1;
  }
  return {
    baseOffset: fields[0],
    lastOffset: fields[1],
    position: fields[2],
    length: fields[3],
    maxTimestamp: fields[4],
    blob: s.slice(at),
  };
}

/** A producer state as the scripts encode it (see decode_producer). */
function decodeProducer(s: string): ProducerPartitionState {
  const semi = s.indexOf(";");
  const n = (semi < 0 ? s : s.slice(0, semi)).split(",").map(Number);
  const recent = [];
  for (let i = 2; i + 2 < n.length; i += 3) {
    recent.push({ firstSeq: n[i], lastSeq: n[i + 1], baseOffset: n[i + 2] });
  }
  const [txnStart, lastTimestamp] = semi < 0 ? [-1, -1] : s.slice(semi + 1).split(",").map(Number);
  return { epoch: n[0], lastSeq: n[1], recent, txnStart, lastTimestamp };
}

function parseTopic(v: unknown): TopicInfo | null {
  if (!Array.isArray(v)) return null;
  return {
    id: String(v[0]),
    name: String(v[1]),
    partitions: Number(v[2]),
    configs: JSON.parse(String(v[3])),
  };
}

/** A committed offset's hash field: the partition, then the topic (which may hold anything). */
function offsetField(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

/**
 * The meta store over Redis Lua scripts, whatever carries them (TCP or REST).
 * See `redis.ts` for the key layout.
 */
export class LuaMetaStore implements MetaStore {
  private readonly clusterKey: string;

  constructor(private readonly redis: RedisEval, private readonly prefix: string) {
    this.clusterKey = `${prefix}cluster`;
  }

  /** Runs a script by SHA, sending it in full once when the server has not cached it. */
  protected async run(name: ScriptName, args: (string | number)[]): Promise<unknown> {
    const argv = [this.prefix, ...args.map(String)];
    const keys = [this.clusterKey];
    const sha = await scriptSha(name);
    try {
      return await this.redis.evalsha(sha, keys, argv);
    } catch (e) {
      if (!/NOSCRIPT/i.test(String((e as Error)?.message ?? e))) throw e;
      return await this.redis.eval(SCRIPTS[name], keys, argv);
    }
  }

  async ping(): Promise<void> {
    const r = await this.run("ping", []);
    if (r !== "PONG") throw new Error(`Redis answered ${JSON.stringify(r)} to a script ping`);
  }

  close(): Promise<void> {
    return this.redis.close();
  }

  async clusterId(proposed: string): Promise<string> {
    return String(await this.run("clusterId", [proposed]));
  }

  async createTopic(t: NewTopic): Promise<TopicInfo | null> {
    const id = newTopicId();
    const ok = await this.run("createTopic", [
      t.name,
      id,
      t.partitions,
      JSON.stringify(t.configs),
    ]);
    if (Number(ok) !== 1) return null;
    return { id, name: t.name, partitions: t.partitions, configs: { ...t.configs } };
  }

  async deleteTopic(name: string): Promise<boolean> {
    return Number(await this.run("deleteTopic", [name])) === 1;
  }

  async createPartitions(name: string, count: number): Promise<TopicInfo | null> {
    return parseTopic(await this.run("createPartitions", [name, count]));
  }

  async setTopicConfigs(name: string, configs: Record<string, string>): Promise<boolean> {
    return Number(await this.run("setTopicConfigs", [name, JSON.stringify(configs)])) === 1;
  }

  async getTopic(name: string): Promise<TopicInfo | null> {
    return parseTopic(await this.run("getTopic", [name, ""]));
  }

  async getTopicById(id: string): Promise<TopicInfo | null> {
    if (id === "") return null;
    return parseTopic(await this.run("getTopic", ["", id]));
  }

  async listTopics(): Promise<TopicInfo[]> {
    const flat = (await this.run("listTopics", [])) as unknown[];
    const out: TopicInfo[] = [];
    for (let i = 0; i < flat.length; i += 4) out.push(parseTopic(flat.slice(i, i + 4))!);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async commitBatches(blob: string, batches: BatchToCommit[]): Promise<CommitResult[]> {
    if (batches.length === 0) return [];
    const args: (string | number)[] = [blob];
    for (const b of batches) {
      for (
        const n of [
          b.partition,
          b.position,
          b.length,
          b.recordCount,
          b.maxTimestamp,
          b.producerId,
          b.producerEpoch,
          b.baseSequence,
        ]
      ) {
        if (!Number.isSafeInteger(n)) {
          throw new Error(`commitBatches: ${JSON.stringify(n)} is not an integer (${b.topicId})`);
        }
      }
      args.push(
        b.topicId,
        b.partition,
        b.position,
        b.length,
        b.recordCount,
        b.maxTimestamp,
        b.producerId,
        b.producerEpoch,
        b.baseSequence,
        b.isControl ? ((b.controlType ?? 0) === 0 ? 2 : 3) : b.isTransactional ? 1 : 0,
      );
    }
    const rows = (await this.run("commitBatches", args)) as number[][];
    if (!Array.isArray(rows) || rows.length !== batches.length) {
      throw new Error(
        `commitBatches script returned ${rows?.length} results for ${batches.length}`,
      );
    }
    return rows.map((r) => ({
      errorCode: Number(r[0]),
      baseOffset: Number(r[1]),
      logStartOffset: Number(r[2]),
      duplicate: Number(r[3]) === 1,
    }));
  }

  async partitionState(topicId: string, partition: number): Promise<PartitionState | null> {
    const v = await this.run("partitionState", [topicId, partition]);
    if (!Array.isArray(v)) return null;
    return {
      logStartOffset: Number(v[0]),
      highWatermark: Number(v[1]),
      lastStableOffset: Number(v[2]),
    };
  }

  async readIndex(
    topicId: string,
    partition: number,
    fromOffset: number,
    maxBytes: number,
  ): Promise<IndexEntry[]> {
    const v = (await this.run("readIndex", [
      topicId,
      partition,
      fromOffset,
      maxBytes,
      MAX_INDEX_ENTRIES,
    ])) as unknown[];
    return v.map(parseEntry);
  }

  async findByTimestamp(
    topicId: string,
    partition: number,
    timestamp: number,
  ): Promise<IndexEntry | null> {
    const v = await this.run("findByTimestamp", [topicId, partition, timestamp]);
    return v === null || v === undefined ? null : parseEntry(v);
  }

  async maxTimestampEntry(topicId: string, partition: number): Promise<IndexEntry | null> {
    const v = await this.run("maxTimestampEntry", [topicId, partition]);
    return v === null || v === undefined ? null : parseEntry(v);
  }

  async advanceLogStart(topicId: string, partition: number, offset: number): Promise<number> {
    return Number(await this.run("advanceLogStart", [topicId, partition, offset]));
  }

  async abortedTransactions(
    topicId: string,
    partition: number,
    fromOffset: number,
    toOffset: number,
  ): Promise<AbortedTransaction[]> {
    if (!Number.isSafeInteger(fromOffset) || !Number.isSafeInteger(toOffset)) {
      throw new RangeError(`abortedTransactions: ${fromOffset} and ${toOffset} must be integers`);
    }
    const flat = (await this.run("abortedTransactions", [
      topicId,
      partition,
      fromOffset,
      toOffset,
    ])) as unknown[];
    const out: AbortedTransaction[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      out.push({
        producerId: Number(flat[i]),
        firstOffset: Number(flat[i + 1]),
        lastOffset: Number(flat[i + 2]),
      });
    }
    return out.sort((a, b) => a.firstOffset - b.firstOffset || a.lastOffset - b.lastOffset);
  }

  async producerStates(topicId: string, partition: number): Promise<ProducerOnPartition[]> {
    const flat = (await this.run("producerStates", [topicId, partition])) as unknown[];
    const out: ProducerOnPartition[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      out.push(producerOnPartition(Number(flat[i]), decodeProducer(String(flat[i + 1]))));
    }
    return out.sort((a, b) => a.producerId - b.producerId);
  }

  async partitionSizes(topicId: string, partitions: number): Promise<number[]> {
    if (partitions <= 0) return [];
    const v = (await this.run("partitionSizes", [topicId, partitions])) as unknown[];
    return v.map(Number);
  }

  async initProducerId(input: InitProducerIdInput): Promise<ProducerIdentity> {
    const v = (await this.run("initProducerId", [
      input.transactionalId === null ? "0" : "1",
      input.transactionalId ?? "",
      input.producerId,
      input.producerEpoch,
    ])) as number[];
    return { errorCode: Number(v[0]), producerId: Number(v[1]), producerEpoch: Number(v[2]) };
  }

  async referencedBlobs(): Promise<Set<string>> {
    const v = (await this.run("referencedBlobs", [])) as unknown[];
    return new Set(v.map(String));
  }

  async registerBroker(reg: BrokerRegistration): Promise<void> {
    const { nodeId, host, port, rack, expiresAtMs } = reg;
    await this.run("registerBroker", [
      nodeId,
      JSON.stringify({ nodeId, host, port, rack, expiresAtMs }),
    ]);
  }

  async unregisterBroker(nodeId: number): Promise<void> {
    await this.run("unregisterBroker", [nodeId]);
  }

  async liveBrokers(nowMs: number): Promise<BrokerRegistration[]> {
    const all = ((await this.run("listBrokers", [])) as unknown[])
      .map((v) => JSON.parse(String(v)) as BrokerRegistration);
    return all.filter((b) => b.expiresAtMs > nowMs).sort((a, b) => a.nodeId - b.nodeId);
  }

  async getTransaction(transactionalId: string): Promise<VersionedTransaction | null> {
    const v = await this.run("getTransaction", [transactionalId]);
    if (!Array.isArray(v)) return null;
    return { version: Number(v[0]), state: String(v[1]) };
  }

  async putTransaction(
    transactionalId: string,
    expectedVersion: number,
    state: string | null,
  ): Promise<number | null> {
    const v = await this.run("putTransaction", [
      transactionalId,
      expectedVersion,
      state === null ? "1" : "0",
      state ?? "",
    ]);
    return v === null || v === undefined ? null : Number(v);
  }

  async listTransactions(): Promise<
    { transactionalId: string; transaction: VersionedTransaction }[]
  > {
    const flat = (await this.run("listTransactions", [])) as unknown[];
    const out: { transactionalId: string; transaction: VersionedTransaction }[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      out.push({
        transactionalId: String(flat[i]),
        transaction: { version: Number(flat[i + 1]), state: String(flat[i + 2]) },
      });
    }
    return out.sort((a, b) =>
      a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0
    );
  }

  async getShareState(
    groupId: string,
    topicId: string,
    partition: number,
  ): Promise<VersionedShareState | null> {
    const v = await this.run("getShareState", [groupId, `${topicId}:${partition}`]);
    if (!Array.isArray(v)) return null;
    return { version: Number(v[0]), state: String(v[1]) };
  }

  async putShareState(
    groupId: string,
    topicId: string,
    partition: number,
    expectedVersion: number,
    state: string | null,
  ): Promise<number | null> {
    const v = await this.run("putShareState", [
      groupId,
      `${topicId}:${partition}`,
      expectedVersion,
      state === null ? "1" : "0",
      state ?? "",
    ]);
    return v === null || v === undefined ? null : Number(v);
  }

  async listShareStates(
    groupId: string,
  ): Promise<{ topicId: string; partition: number; share: VersionedShareState }[]> {
    const flat = (await this.run("listShareStates", [groupId])) as unknown[];
    const out: { topicId: string; partition: number; share: VersionedShareState }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const field = String(flat[i]);
      const colon = field.lastIndexOf(":");
      const v = String(flat[i + 1]);
      const bar = v.indexOf("|");
      out.push({
        topicId: field.slice(0, colon),
        partition: Number(field.slice(colon + 1)),
        share: { version: Number(v.slice(0, bar)), state: v.slice(bar + 1) },
      });
    }
    return out.sort((a, b) =>
      a.topicId < b.topicId ? -1 : a.topicId > b.topicId ? 1 : a.partition - b.partition
    );
  }

  async getGroup(groupId: string): Promise<VersionedGroup | null> {
    const v = await this.run("getGroup", [groupId]);
    if (!Array.isArray(v)) return null;
    return { version: Number(v[0]), state: String(v[1]) };
  }

  async putGroup(
    groupId: string,
    expectedVersion: number,
    state: string | null,
  ): Promise<number | null> {
    const v = await this.run("putGroup", [
      groupId,
      expectedVersion,
      state === null ? "1" : "0",
      state ?? "",
    ]);
    return v === null || v === undefined ? null : Number(v);
  }

  async listGroups(): Promise<{ groupId: string; group: VersionedGroup }[]> {
    const flat = (await this.run("listGroups", [])) as unknown[];
    const out: { groupId: string; group: VersionedGroup }[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      out.push({
        groupId: String(flat[i]),
        group: { version: Number(flat[i + 1]), state: String(flat[i + 2]) },
      });
    }
    return out.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  async touchMember(groupId: string, memberId: string, atMs: number): Promise<void> {
    await this.run("touchMember", [groupId, memberId, atMs]);
  }

  async memberHeartbeats(groupId: string): Promise<Map<string, number>> {
    const flat = (await this.run("memberHeartbeats", [groupId])) as unknown[];
    const out = new Map<string, number>();
    for (let i = 0; i < flat.length; i += 2) out.set(String(flat[i]), Number(flat[i + 1]));
    return out;
  }

  async forgetMembers(groupId: string, memberIds: string[]): Promise<void> {
    if (memberIds.length === 0) return;
    await this.run("forgetMembers", [groupId, ...memberIds]);
  }

  async commitOffsets(groupId: string, offsets: CommittedOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const args: string[] = [groupId];
    for (const o of offsets) {
      args.push(offsetField(o.topic, o.partition), JSON.stringify(o));
    }
    await this.run("commitOffsets", args);
  }

  async fetchOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[] | null,
  ): Promise<CommittedOffset[]> {
    if (partitions !== null && partitions.length === 0) return [];
    const fields = (partitions ?? []).map((p) => offsetField(p.topic, p.partition));
    const values = (await this.run("fetchOffsets", [groupId, ...fields])) as unknown[];
    const out = values.filter((v) => v !== null && v !== undefined)
      .map((v) => JSON.parse(String(v)) as CommittedOffset);
    if (partitions === null) {
      out.sort((a, b) =>
        a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
      );
    }
    return out;
  }

  async deleteOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[],
  ): Promise<void> {
    if (partitions.length === 0) return;
    await this.run("deleteOffsets", [
      groupId,
      ...partitions.map((p) => offsetField(p.topic, p.partition)),
    ]);
  }

  async entityConfigs(entityType: string, names: string[] | null): Promise<EntityConfigs[]> {
    if (names !== null && names.length === 0) return [];
    const flat = (await this.run(
      "entityConfigs",
      names === null ? [entityType, "1"] : [entityType, "0", ...new Set(names)],
    )) as unknown[];
    const out: EntityConfigs[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      out.push({
        name: String(flat[i]),
        version: Number(flat[i + 1]),
        configs: JSON.parse(String(flat[i + 2])),
      });
    }
    return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  async alterEntityConfigs(
    entityType: string,
    name: string,
    changes: Record<string, string | null>,
    expectedVersion?: number,
  ): Promise<EntityConfigs | null> {
    const v = await this.run("alterEntityConfigs", [
      entityType,
      name,
      expectedVersion === undefined ? "" : expectedVersion,
      JSON.stringify(changes),
    ]);
    if (!Array.isArray(v)) return null;
    return { name, version: Number(v[0]), configs: JSON.parse(String(v[1])) };
  }

  async claimCleaning(
    topicId: string,
    partition: number,
    owner: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<boolean> {
    if (!Number.isSafeInteger(nowMs) || !Number.isSafeInteger(leaseMs)) {
      throw new RangeError(`claimCleaning: ${nowMs} and ${leaseMs} must be integers`);
    }
    return Number(
      await this.run("claimCleaning", [topicId, partition, owner, nowMs, leaseMs]),
    ) === 1;
  }

  async releaseCleaning(topicId: string, partition: number, owner: string): Promise<void> {
    await this.run("releaseCleaning", [topicId, partition, owner]);
  }

  async cleaningLease(topicId: string, partition: number): Promise<CleaningLease | null> {
    const v = await this.run("cleaningLease", [topicId, partition]);
    return Array.isArray(v) ? { owner: String(v[0]), untilMs: Number(v[1]) } : null;
  }

  async cleanerState(topicId: string, partition: number): Promise<CleanerState | null> {
    const v = await this.run("cleanerState", [topicId, partition]);
    if (!Array.isArray(v)) return null;
    return {
      cleanedThrough: Number(v[0]),
      cleanBytes: Number(v[1]),
      dirtyBytes: Number(v[2]),
    };
  }

  async replaceIndexEntries(
    topicId: string,
    partition: number,
    owner: string,
    nowMs: number,
    expected: IndexEntry[],
    replacement: IndexEntry[],
    cleanedThrough: number,
  ): Promise<boolean> {
    checkReplacement(expected, replacement, cleanedThrough);
    if (!Number.isSafeInteger(nowMs)) {
      throw new RangeError(`replaceIndexEntries: nowMs ${nowMs} is not an integer`);
    }
    const args: (string | number)[] = [
      topicId,
      partition,
      owner,
      nowMs,
      cleanedThrough,
      expected.length,
    ];
    for (const e of expected) args.push(e.baseOffset, e.lastOffset, e.position, e.length, e.blob);
    for (const e of replacement) {
      args.push(e.baseOffset, e.lastOffset, e.position, e.length, e.maxTimestamp, e.blob);
    }
    return Number(await this.run("replaceIndexEntries", args)) === 1;
  }
}
