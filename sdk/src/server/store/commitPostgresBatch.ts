import type pg from "pg";
import type { Hex } from "viem";
import { StoreError } from "../../errors/StoreError.js";
import { databaseError, describe } from "./postgresStoreError.js";
import type { ChannelScope } from "./channelScope.js";
import { createChannelTransaction, type ChannelTransactionWrites } from "./createChannelTransaction.js";
import type { QueuedCall } from "./createCommitQueue.js";
import type { PostgresBatchSql } from "./postgresBatchSql.js";
import type { ReservedChargeKeys } from "./createReservedChargeKeys.js";
import type { StoredChannelIds } from "./createStoredChannelIds.js";
import type { ChargeRecord } from "./SessionStore.js";
import { channelFromRow, chargeFromRow } from "./sqlRecordCodec.js";

export type CommitPostgresBatchParameters = {
  /** On distinct channels (the store queues calls on one channel before they reach a batch). */
  calls: QueuedCall[];
  client: pg.PoolClient;
  sql: PostgresBatchSql;
  scope: ChannelScope;
  /** Charges read with the locks, so that the calls finishing them need no read of their own; updated on commit. */
  reserved: ReservedChargeKeys;
  /** Channels seen stored, which need no advisory lock; updated with what the batch reads and commits. */
  stored: StoredChannelIds;
  /** Whether `error` is PostgreSQL refusing a statement (the connection is fine), not the connection failing. */
  isDatabaseError(error: unknown): boolean;
};

/**
 * One PostgreSQL group commit on one connection: a round trip opens the transaction, locks every
 * channel of the batch and reads the rows and the charges this instance left reserved on them, the
 * callbacks run side by side (their other charge reads gathered into one query per event-loop turn),
 * and one round trip writes what they all buffered and commits. A callback that throws is answered
 * with its error at once and writes nothing; writes PostgreSQL refuses are retried call by call under
 * savepoints, so only the offending call fails. Every other call is answered only once COMMIT
 * returned. A batch of one call (the queue's fast path) is one plain transaction: its reads go out at
 * once and its writes need no savepoint. Resolves with the error that makes the connection unfit for
 * the pool, if any.
 */
export async function commitPostgresBatch({ calls, client, sql, scope, reserved, stored, isDatabaseError }: CommitPostgresBatchParameters): Promise<Error | undefined> {
  const failAll = (error: unknown) => {
    for (const call of calls) call.reject(error);
  };
  async function rollback(): Promise<Error | undefined> {
    try {
      await client.query("ROLLBACK");
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }

  const rows = new Map<string, pg.QueryResultRow>();
  const guessed = calls.flatMap(({ channelId }) => reserved.keys(channelId).map((key) => ({ channelId, key })));
  // Every charge guessed, as read under the locks: undefined where there is none.
  const prefetched = new Map<string, ChargeRecord | undefined>(guessed.map(({ channelId, key }) => [chargeId(channelId, key), undefined]));
  try {
    const ids = calls.map((call) => call.channelId);
    const begin = sql.beginAndLock(ids, { unstored: ids.filter((id) => !stored.has(id)), charges: guessed });
    const opened = (await client.query(begin.text)) as unknown as pg.QueryResult[];
    for (const row of opened[begin.rowsAt]!.rows) {
      rows.set(row.channel_id as string, row);
      stored.add(row.channel_id as Hex);
    }
    for (const row of begin.chargesAt === undefined ? [] : opened[begin.chargesAt]!.rows) prefetched.set(chargeId(row.channel_id as Hex, row.key as string), chargeFromRow(row));
  } catch (error) {
    failAll(databaseError("lock", error));
    return rollback();
  }
  for (const { channelId, key } of guessed) {
    if (prefetched.get(chargeId(channelId, key))?.status !== "reserved") reserved.forget(channelId, key);
  }

  const reads = createChargeReads({ client, sql, prefetched, gather: calls.length > 1 });
  const outcomes = await Promise.all(calls.map((call) => runCall(call, rows.get(call.channelId), reads, scope)));
  // A read PostgreSQL failed aborted the transaction: nothing of the batch can commit.
  if (reads.error() !== undefined) {
    failAll(reads.error());
    return rollback();
  }
  const done = calls.flatMap((call, i) => {
    const outcome = outcomes[i]!;
    if ("error" in outcome) call.reject(outcome.error);
    return "error" in outcome ? [] : [{ call, ...outcome }];
  });

  const writes = sql.writes(done.map((entry) => entry.writes));
  // Only calls sharing the transaction need a savepoint to be written again one by one.
  const shared = done.length > 1;
  let committed: pg.QueryResult[];
  try {
    const text = writes === "" ? "COMMIT" : shared ? `SAVEPOINT batch_writes; ${writes}; RELEASE batch_writes; COMMIT` : `${writes}; COMMIT`;
    committed = [(await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[]].flat();
  } catch (error) {
    if (!isDatabaseError(error)) {
      failAll(new StoreError("commit-unknown", `The connection failed during COMMIT; the writes may or may not have landed: ${describe(error)}`, { cause: error }));
      return error as Error;
    }
    if (shared) return writeOneByOne(done, error);
    failAll(databaseError("write", error));
    return rollback();
  }
  // PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK, not an error.
  if (committed.at(-1)?.command !== "COMMIT") {
    failAll(new StoreError("database", "PostgreSQL rolled the transaction back"));
    return undefined;
  }
  return answer(done);

  /** Answers the calls whose writes committed, remembering the reservations they left. */
  function answer(entries: typeof done): undefined {
    for (const { call, result, writes } of entries) {
      reserved.record(writes.charges);
      if (writes.channel !== undefined) stored.add(writes.channel.channelId);
      call.resolve(result);
    }
    return undefined;
  }

  /** The slow path after PostgreSQL refused the batch's writes: each call's writes under its own savepoint. */
  async function writeOneByOne(entries: typeof done, batchError: unknown): Promise<Error | undefined> {
    const kept: typeof done = [];
    try {
      await client.query("ROLLBACK TO SAVEPOINT batch_writes");
      for (const entry of entries) {
        const own = sql.writes([entry.writes]);
        try {
          if (own !== "") await client.query(`SAVEPOINT call_writes; ${own}; RELEASE call_writes`);
          kept.push(entry);
        } catch (error) {
          if (!isDatabaseError(error)) throw error;
          await client.query("ROLLBACK TO SAVEPOINT call_writes");
          entry.call.reject(databaseError("write", error));
        }
      }
      const commit = await client.query("COMMIT");
      if (commit.command !== "COMMIT") throw new StoreError("database", "PostgreSQL rolled the transaction back");
    } catch (error) {
      failAll(databaseError("write", error ?? batchError));
      return isDatabaseError(error) || error instanceof StoreError ? rollback() : (error as Error);
    }
    return answer(kept);
  }
}

const chargeId = (channelId: Hex, key: string) => `${channelId}\n${key}`;

type CallOutcome = { result: unknown; writes: ChannelTransactionWrites } | { error: unknown };

async function runCall(call: QueuedCall, row: pg.QueryResultRow | undefined, reads: ChargeReads, scope: ChannelScope): Promise<CallOutcome> {
  const transaction = createChannelTransaction({
    channelId: call.channelId,
    channel: row && channelFromRow(row),
    loadCharge: (key) => reads.load(call.channelId, key),
  });
  try {
    const result = await scope.run(() => call.fn(transaction.tx));
    return { result, writes: transaction.finish() };
  } catch (error) {
    transaction.finish();
    return { error };
  }
}

type ChargeReads = ReturnType<typeof createChargeReads>;

type ChargeReadsParameters = {
  client: pg.PoolClient;
  sql: PostgresBatchSql;
  /** Charges already read under the locks (undefined: read, and absent). */
  prefetched: ReadonlyMap<string, ChargeRecord | undefined>;
  /** Whether to gather the reads of one event-loop turn into one query (several callbacks) or send each at once (one). */
  gather: boolean;
};

/** Charge reads of a batch's callbacks: the prefetched ones answered at once, the rest gathered per event-loop turn into one query. */
function createChargeReads({ client, sql, prefetched, gather }: ChargeReadsParameters) {
  type Read = { channelId: Hex; key: string; resolve(charge: ChargeRecord | undefined): void; reject(error: unknown): void };
  let queued: Read[] = [];
  let failure: StoreError | undefined;

  async function flush(): Promise<void> {
    const batch = queued;
    queued = [];
    try {
      const { rows } = await client.query({ text: sql.selectCharges, values: [batch.map((read) => read.channelId), batch.map((read) => read.key)] });
      const found = new Map(rows.map((row) => [chargeId(row.channel_id as Hex, row.key as string), row]));
      for (const read of batch) {
        const row = found.get(chargeId(read.channelId, read.key));
        read.resolve(row && chargeFromRow(row));
      }
    } catch (error) {
      failure ??= databaseError("read", error);
      for (const read of batch) read.reject(failure);
    }
  }

  return {
    load(channelId: Hex, key: string): Promise<ChargeRecord | undefined> {
      if (failure !== undefined) return Promise.reject(failure);
      const id = chargeId(channelId, key);
      if (prefetched.has(id)) {
        const charge = prefetched.get(id);
        return Promise.resolve(charge && { ...charge });
      }
      return new Promise((resolve, reject) => {
        if (queued.length === 0) (gather ? setImmediate : queueMicrotask)(() => void flush());
        queued.push({ channelId, key, resolve, reject });
      });
    },
    error: () => failure,
  };
}
