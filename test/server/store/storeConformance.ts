import assert from "node:assert/strict";
import type { Hex } from "viem";
import { groupUsage, type SessionStore, StoreError } from "../../../sdk/src/server/store/index.js";
import { makePayment } from "./paymentConformance.js";
import {
  incrementSpent,
  makeChannel,
  makeCharge,
  MAX_UINT128,
  newChannelId,
  PAYEE_A,
  PAYEE_B,
  PAYER_A,
  PAYER_B,
  sleep,
} from "./storeFixtures.js";

export type StoreHarness = {
  /** A new, empty store. */
  create(): Promise<SessionStore>;
  /** Called after each test with the store it created (already closed or not). */
  dispose?(store: SessionStore): Promise<void>;
};

function assertStoreError(reason: StoreError["reason"]) {
  return (error: unknown) => {
    assert.ok(error instanceof StoreError, `expected StoreError(${reason}), got ${String(error)}`);
    assert.equal(error.code, "STORE_FAILED");
    assert.equal(error.reason, reason);
    return true;
  };
}

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 31, 22, 30); // 2024-01-31T22:30Z, near a day and a month boundary

/**
 * The behaviour every SessionStore must have, run against each implementation. Each test gets a fresh
 * store from the harness.
 */
export function describeStoreConformance(name: string, harness: StoreHarness): void {
  describe(`SessionStore conformance: ${name}`, function () {
    let store: SessionStore;
    beforeEach(async () => {
      store = await harness.create();
    });
    afterEach(async () => {
      await store.close();
      await harness.dispose?.(store);
    });

    it("round-trips every channel field: uint128 maxima, signatures and hashes, then zeros and nulls", async () => {
      const id = newChannelId();
      const full = makeChannel(id, {
        chainId: 2_147_483_648 * 2 + 7, // beyond int32: chain ids are not bounded by 2^31
        authorizedSigner: "0x5555555555555555555555555555555555555555",
        deposit: MAX_UINT128,
        settledOnChain: MAX_UINT128 - 1n,
        acceptedCumulative: MAX_UINT128,
        acceptedSignature: `0x${"ab".repeat(65)}`,
        spent: MAX_UINT128,
        reserved: MAX_UINT128 - 2n,
        units: MAX_UINT128,
        closeRequestedAt: 1_800_000_000n,
        status: "closing",
        lastTxHash: `0x${"cd".repeat(32)}`,
        createdAt: 1_700_000_000_123,
        updatedAt: 1_700_000_999_999,
      });
      assert.equal(await store.getChannel(id), undefined);
      await store.withChannel(id, async (tx) => {
        assert.equal(tx.channel, undefined);
        await tx.putChannel(full);
      });
      assert.deepEqual(await store.getChannel(id), full);
      await store.withChannel(id, async (tx) => assert.deepEqual(tx.channel, full));

      const empty = makeChannel(id, {
        deposit: 0n,
        acceptedSignature: null,
        lastTxHash: null,
        spent: 0n,
        units: 0n,
        status: "closed",
        createdAt: 0,
        updatedAt: 0,
      });
      await store.withChannel(id, (tx) => tx.putChannel(empty));
      assert.deepEqual(await store.getChannel(id), empty);
    });

    it("round-trips every charge field, including uint128 maxima, and updates in place", async () => {
      const id = newChannelId();
      const charge = makeCharge(id, "idem-😀/key with spaces", {
        payer: PAYER_B,
        amount: MAX_UINT128,
        units: MAX_UINT128,
        status: "reserved",
        fingerprint: "0f".repeat(32),
        route: "photos \"large\" / v2",
        unitType: "photo",
        createdAt: 1,
        updatedAt: 2,
      });
      await store.withChannel(id, async (tx) => {
        assert.equal(await tx.getCharge(charge.key), undefined);
        await tx.putCharge(charge);
        await tx.putCharge(makeCharge(id, "generated"));
      });
      assert.deepEqual(await store.listCharges({ status: "reserved", channelId: id }), [charge, makeCharge(id, "generated")]);
      await store.withChannel(id, async (tx) => {
        assert.deepEqual(await tx.getCharge(charge.key), charge);
        assert.equal((await tx.getCharge("generated"))?.fingerprint, null);
        // A charge without a route (as stored before schema 4) reads back without one.
        assert.equal("route" in ((await tx.getCharge("generated")) ?? {}), false);
        await tx.putCharge({ ...charge, status: "committed", amount: 5n, fingerprint: "a1".repeat(32), updatedAt: 3 });
      });
      await store.withChannel(id, async (tx) => {
        assert.deepEqual(await tx.getCharge(charge.key), { ...charge, status: "committed", amount: 5n, fingerprint: "a1".repeat(32), updatedAt: 3 });
        assert.equal(await tx.getCharge("other"), undefined);
      });
      // Keys are per channel.
      await store.withChannel(newChannelId(), async (tx) => assert.equal(await tx.getCharge(charge.key), undefined));
    });

    it("keys channels by lowercase id, whatever case the caller uses", async () => {
      const id = newChannelId();
      const upper = `0x${id.slice(2).toUpperCase()}` as Hex;
      await store.withChannel(upper, (tx) => tx.putChannel(makeChannel(upper, { spent: 7n })));
      const stored = await store.getChannel(id);
      assert.equal(stored?.channelId, id);
      assert.equal(stored?.spent, 7n);
      await store.withChannel(id, async (tx) => assert.equal(tx.channel?.spent, 7n));
      assert.equal((await store.getChannel(upper))?.spent, 7n);
    });

    it("returns the callback's value, shows its own charge writes to getCharge, and keeps tx.channel as locked", async () => {
      const id = newChannelId();
      await store.withChannel(id, (tx) => tx.putChannel(makeChannel(id, { spent: 1n })));
      const result = await store.withChannel(id, async (tx) => {
        await tx.putChannel(makeChannel(id, { spent: 2n }));
        await tx.putCharge(makeCharge(id, "k", { amount: 3n }));
        assert.equal((await tx.getCharge("k"))?.amount, 3n);
        assert.equal(tx.channel?.spent, 1n);
        return { ok: 42 };
      });
      assert.deepEqual(result, { ok: 42 });
      assert.equal((await store.getChannel(id))?.spent, 2n);
    });

    it("is atomic: a callback that throws writes nothing, and its error comes out unchanged", async () => {
      const id = newChannelId();
      await store.withChannel(id, async (tx) => {
        await tx.putChannel(makeChannel(id, { spent: 5n }));
        await tx.putCharge(makeCharge(id, "kept", { status: "committed" }));
      });
      const boom = new Error("boom");
      await assert.rejects(
        store.withChannel(id, async (tx) => {
          await tx.putChannel(makeChannel(id, { spent: 6n }));
          await tx.putCharge(makeCharge(id, "kept", { status: "released" }));
          await tx.putCharge(makeCharge(id, "lost"));
          await sleep(1);
          throw boom;
        }),
        (error) => error === boom,
      );
      assert.equal((await store.getChannel(id))?.spent, 5n);
      await store.withChannel(id, async (tx) => {
        assert.equal((await tx.getCharge("kept"))?.status, "committed");
        assert.equal(await tx.getCharge("lost"), undefined);
      });

      // Same for a channel that did not exist: it still does not.
      const fresh = newChannelId();
      await assert.rejects(
        store.withChannel(fresh, async (tx) => {
          await tx.putChannel(makeChannel(fresh));
          await tx.putCharge(makeCharge(fresh, "x"));
          throw boom;
        }),
        (error) => error === boom,
      );
      assert.equal(await store.getChannel(fresh), undefined);
      assert.deepEqual(await store.listCharges({ status: "reserved", channelId: fresh }), []);
    });

    it("test_store_failingCallsAmongConcurrentOnesFailAloneAndWriteNothing", async () => {
      // Calls made in one turn share a group commit on the SQL stores: a callback that throws after
      // reading and writing, one that writes an invalid record, and a nested withChannel fail with their
      // own errors; every other call, on the same channels too, commits.
      const [a, b, c] = [newChannelId(), newChannelId(), newChannelId()];
      await incrementSpent(store, a, "seed");
      const boom = new Error("boom");
      const outcomes = await Promise.allSettled([
        incrementSpent(store, a, "a1"),
        store.withChannel(a, async (tx) => {
          await tx.getCharge("a1");
          await tx.putChannel({ ...tx.channel!, spent: 1_000n });
          await tx.putCharge(makeCharge(a, "thrown"));
          throw boom;
        }),
        incrementSpent(store, b, "b1"),
        store.withChannel(b, (tx) => tx.putCharge(makeCharge(b, "bad", { amount: -1n }))),
        store.withChannel(c, () => store.withChannel(c, async () => undefined)),
        incrementSpent(store, a, "a2"),
        incrementSpent(store, c, "c1"),
        incrementSpent(store, b, "b2"),
      ]);
      assert.deepEqual(
        outcomes.map((outcome) => outcome.status),
        ["fulfilled", "rejected", "fulfilled", "rejected", "rejected", "fulfilled", "fulfilled", "fulfilled"],
      );
      assert.equal((outcomes[1] as PromiseRejectedResult).reason, boom);
      assertStoreError("invalid-record")((outcomes[3] as PromiseRejectedResult).reason);
      assertStoreError("misuse")((outcomes[4] as PromiseRejectedResult).reason);
      assert.deepEqual(
        [await store.getChannel(a), await store.getChannel(b), await store.getChannel(c)].map((channel) => channel?.spent),
        [3n, 2n, 1n],
      );
      const keys = async (id: Hex) => (await store.listCharges({ status: "committed", channelId: id })).map((charge) => charge.key).sort();
      assert.deepEqual(await keys(a), ["a1", "a2", "seed"]);
      assert.deepEqual(await keys(b), ["b1", "b2"]);
      assert.deepEqual(await keys(c), ["c1"]);
      assert.deepEqual(await store.listCharges({ status: "reserved" }), []);
    });

    it("serializes withChannel on one channel: 50 concurrent increments make exactly 50", async () => {
      const id = newChannelId();
      const other = newChannelId();
      const results = await Promise.all([
        ...Array.from({ length: 50 }, (_, i) =>
          incrementSpent(store, id, `k${i}`, { pause: () => (i % 3 === 0 ? sleep(1) : Promise.resolve()) }),
        ),
        // Another channel at the same time must neither block forever nor interfere.
        ...Array.from({ length: 5 }, (_, i) => incrementSpent(store, other, `o${i}`)),
      ]);
      assert.equal((await store.getChannel(id))?.spent, 50n);
      assert.equal((await store.getChannel(other))?.spent, 5n);
      // Every transaction saw its predecessor's write: the sequence numbers are 1..50, each once.
      assert.deepEqual(
        results.slice(0, 50).sort((a, b) => Number(a - b)),
        Array.from({ length: 50 }, (_, i) => BigInt(i + 1)),
      );
      assert.equal((await store.listCharges({ status: "committed", channelId: id })).length, 50);
    });

    it("rejects records that are malformed or belong to another channel, and writes nothing", async () => {
      const id = newChannelId();
      const cases: [string, (tx: Parameters<Parameters<SessionStore["withChannel"]>[1]>[0]) => Promise<void>][] = [
        ["other channel", (tx) => tx.putChannel(makeChannel(newChannelId()))],
        ["negative amount", (tx) => tx.putChannel(makeChannel(id, { spent: -1n }))],
        ["number amount", (tx) => tx.putChannel(makeChannel(id, { deposit: 5 as unknown as bigint }))],
        ["beyond uint256", (tx) => tx.putChannel(makeChannel(id, { deposit: 1n << 256n }))],
        ["bad status", (tx) => tx.putChannel(makeChannel(id, { status: "gone" as "open" }))],
        ["bad address", (tx) => tx.putChannel(makeChannel(id, { payer: "0x12" }))],
        ["fractional time", (tx) => tx.putChannel(makeChannel(id, { updatedAt: 1.5 }))],
        ["charge of other channel", (tx) => tx.putCharge(makeCharge(newChannelId(), "k"))],
        ["empty key", (tx) => tx.putCharge(makeCharge(id, ""))],
        ["bad charge status", (tx) => tx.putCharge(makeCharge(id, "k", { status: "done" as "committed" }))],
        ["short fingerprint", (tx) => tx.putCharge(makeCharge(id, "k", { fingerprint: "ab" }))],
        ["uppercase fingerprint", (tx) => tx.putCharge(makeCharge(id, "k", { fingerprint: "AB".repeat(32) }))],
        ["missing fingerprint", (tx) => tx.putCharge(makeCharge(id, "k", { fingerprint: undefined as unknown as null }))],
        ["empty route", (tx) => tx.putCharge(makeCharge(id, "k", { route: "" }))],
        ["route with a newline", (tx) => tx.putCharge(makeCharge(id, "k", { route: "a\nb" }))],
        ["route too long", (tx) => tx.putCharge(makeCharge(id, "k", { route: "r".repeat(129) }))],
        ["number unit type", (tx) => tx.putCharge(makeCharge(id, "k", { unitType: 5 as unknown as string }))],
      ];
      for (const [label, write] of cases) {
        await assert.rejects(store.withChannel(id, write), assertStoreError("invalid-record"), label);
      }
      assert.equal(await store.getChannel(id), undefined);
      await assert.rejects(store.withChannel("0x1234", async () => undefined), /32 bytes/);
    });

    it("refuses a nested withChannel on the same store and a transaction used after it ended", async () => {
      const id = newChannelId();
      await assert.rejects(
        store.withChannel(id, () => store.withChannel(newChannelId(), async () => undefined)),
        assertStoreError("misuse"),
      );
      let leaked: Parameters<Parameters<SessionStore["withChannel"]>[1]>[0] | undefined;
      await store.withChannel(id, async (tx) => {
        leaked = tx;
      });
      await assert.rejects(leaked!.putChannel(makeChannel(id)), assertStoreError("misuse"));
      assert.equal(await store.getChannel(id), undefined);
      // A promise left behind by a finished callback may use the store again.
      let later: Promise<unknown> | undefined;
      await store.withChannel(id, async () => {
        later = sleep(5).then(() => incrementSpent(store, id, "later"));
      });
      assert.equal(await later, 1n);
    });

    it("hands out copies: mutating a returned record changes nothing stored", async () => {
      const id = newChannelId();
      const channel = makeChannel(id, { spent: 1n });
      await store.withChannel(id, (tx) => tx.putChannel(channel));
      channel.spent = 99n;
      const read = await store.getChannel(id);
      read!.spent = 98n;
      const [listed] = await store.listChannels({ payer: PAYER_A });
      listed!.spent = 97n;
      assert.equal((await store.getChannel(id))?.spent, 1n);
    });

    it("lists channels by status, payer and payee, oldest first", async () => {
      const ids = [newChannelId(), newChannelId(), newChannelId(), newChannelId()];
      const specs = [
        { status: "open", payer: PAYER_A, payee: PAYEE_A, createdAt: 40 },
        { status: "open", payer: PAYER_B, payee: PAYEE_A, createdAt: 10 },
        { status: "closing", payer: PAYER_A, payee: PAYEE_B, createdAt: 30 },
        { status: "closed", payer: PAYER_B, payee: PAYEE_B, createdAt: 20 },
      ] as const;
      for (const [i, spec] of specs.entries()) await store.withChannel(ids[i]!, (tx) => tx.putChannel(makeChannel(ids[i]!, spec)));
      const idsOf = (list: { channelId: Hex }[]) => list.map((channel) => channel.channelId);
      assert.deepEqual(idsOf(await store.listChannels()), [ids[1], ids[3], ids[2], ids[0]]);
      assert.deepEqual(idsOf(await store.listChannels({})), [ids[1], ids[3], ids[2], ids[0]]);
      assert.deepEqual(idsOf(await store.listChannels({ status: "open" })), [ids[1], ids[0]]);
      assert.deepEqual(idsOf(await store.listChannels({ payer: PAYER_A })), [ids[2], ids[0]]);
      assert.deepEqual(idsOf(await store.listChannels({ payee: PAYEE_B })), [ids[3], ids[2]]);
      assert.deepEqual(idsOf(await store.listChannels({ status: "closed", payer: PAYER_B, payee: PAYEE_B })), [ids[3]]);
      assert.deepEqual(await store.listChannels({ status: "closed", payer: PAYER_A }), []);
      const [first] = await store.listChannels({ payee: PAYEE_A, payer: PAYER_B });
      assert.deepEqual(first, makeChannel(ids[1]!, specs[1]));

      // Filtered columns change too (the SQL stores index them): the lists follow.
      await store.withChannel(ids[1]!, async (tx) => tx.putChannel({ ...tx.channel!, status: "closed", payer: PAYER_A, spent: 4n }));
      assert.deepEqual(idsOf(await store.listChannels({ status: "open" })), [ids[0]]);
      assert.deepEqual(idsOf(await store.listChannels({ status: "closed" })), [ids[1], ids[3]]);
      assert.deepEqual(idsOf(await store.listChannels({ payer: PAYER_A })), [ids[1], ids[2], ids[0]]);
      await store.withChannel(ids[1]!, async (tx) => tx.putChannel({ ...tx.channel!, payee: PAYEE_B }));
      assert.deepEqual(idsOf(await store.listChannels({ payee: PAYEE_B })), [ids[1], ids[3], ids[2]]);
      assert.equal((await store.getChannel(ids[1]!))?.spent, 4n);
    });

    it("test_store_listChannelsByChainEscrowAndToken", async () => {
      // Gates on other chains, escrows or currencies may share the store: settlement selects its own.
      const ESCROW_B = "0x5555555555555555555555555555555555555555" as const;
      const TOKEN_B = "0x6666666666666666666666666666666666666666" as const;
      const base = makeChannel(newChannelId());
      const ids = [newChannelId(), newChannelId(), newChannelId(), newChannelId()];
      const specs = [
        { createdAt: 10 },
        { createdAt: 20, chainId: base.chainId + 1 },
        { createdAt: 30, escrow: ESCROW_B },
        { createdAt: 40, token: TOKEN_B, status: "closed" },
      ] as const;
      for (const [i, spec] of specs.entries()) await store.withChannel(ids[i]!, (tx) => tx.putChannel(makeChannel(ids[i]!, spec)));
      const idsOf = (list: { channelId: Hex }[]) => list.map((channel) => channel.channelId);
      const scope = { chainId: base.chainId, escrow: base.escrow, token: base.token, payee: base.payee };
      assert.deepEqual(idsOf(await store.listChannels(scope)), [ids[0]]);
      assert.deepEqual(idsOf(await store.listChannels({ chainId: base.chainId + 1 })), [ids[1]]);
      assert.deepEqual(idsOf(await store.listChannels({ chainId: base.chainId })), [ids[0], ids[2], ids[3]]);
      assert.deepEqual(idsOf(await store.listChannels({ escrow: ESCROW_B })), [ids[2]]);
      assert.deepEqual(idsOf(await store.listChannels({ token: TOKEN_B })), [ids[3]]);
      assert.deepEqual(idsOf(await store.listChannels({ token: TOKEN_B, status: "open" })), []);
      assert.deepEqual(idsOf(await store.listChannels({ ...scope, escrow: ESCROW_B })), [ids[2]]);
      assert.deepEqual(idsOf(await store.listChannels({ ...scope, escrow: ESCROW_B, payee: PAYEE_B })), []);
    });

    it("lists charges by status, updatedBefore (exclusive) and channel, least recently updated first", async () => {
      const a = newChannelId();
      const b = newChannelId();
      await store.withChannel(a, async (tx) => {
        await tx.putCharge(makeCharge(a, "a1", { status: "reserved", updatedAt: 300 }));
        await tx.putCharge(makeCharge(a, "a2", { status: "reserved", updatedAt: 100 }));
        await tx.putCharge(makeCharge(a, "a3", { status: "committed", updatedAt: 50 }));
      });
      await store.withChannel(b, async (tx) => {
        await tx.putCharge(makeCharge(b, "b1", { status: "reserved", updatedAt: 200 }));
        await tx.putCharge(makeCharge(b, "b2", { status: "released", updatedAt: 10 }));
      });
      const keys = (list: { key: string }[]) => list.map((charge) => charge.key);
      assert.deepEqual(keys(await store.listCharges({ status: "reserved" })), ["a2", "b1", "a1"]);
      assert.deepEqual(keys(await store.listCharges({ status: "reserved", updatedBefore: 200 })), ["a2"]);
      assert.deepEqual(keys(await store.listCharges({ status: "reserved", updatedBefore: 201 })), ["a2", "b1"]);
      assert.deepEqual(keys(await store.listCharges({ status: "reserved", channelId: a })), ["a2", "a1"]);
      assert.deepEqual(keys(await store.listCharges({ status: "reserved", channelId: b, updatedBefore: 1000 })), ["b1"]);
      assert.deepEqual(keys(await store.listCharges({ status: "committed" })), ["a3"]);
      assert.deepEqual(keys(await store.listCharges({ status: "released", channelId: a })), []);
      assert.deepEqual(await store.listCharges({ status: "released" }), [makeCharge(b, "b2", { status: "released", updatedAt: 10 })]);
    });

    it("sums usage exactly by payer and UTC hour, day and month, beyond 2^64, committed charges only", async () => {
      const a = newChannelId();
      const b = newChannelId();
      const big = MAX_UINT128; // three of these exceed 2^129
      await store.withChannel(a, async (tx) => {
        await tx.putCharge(makeCharge(a, "1", { payer: PAYER_A, amount: big, units: 1n, status: "committed", createdAt: T0 }));
        await tx.putCharge(makeCharge(a, "2", { payer: PAYER_A, amount: big, units: big, status: "committed", createdAt: T0 + 29 * 60_000 }));
        // 2024-01-31T23:00 (next hour, same day and month)
        await tx.putCharge(makeCharge(a, "3", { payer: PAYER_A, amount: big, units: 2n, status: "committed", createdAt: T0 + 30 * 60_000 }));
        // 2024-02-01T00:00 exactly: next day and month
        await tx.putCharge(makeCharge(a, "4", { payer: PAYER_A, amount: 5n, units: 1n, status: "committed", createdAt: T0 + 90 * 60_000 }));
        // Not committed: never counted.
        await tx.putCharge(makeCharge(a, "5", { payer: PAYER_A, amount: 1000n, status: "reserved", createdAt: T0 }));
        await tx.putCharge(makeCharge(a, "6", { payer: PAYER_A, amount: 1000n, status: "released", createdAt: T0 }));
      });
      await store.withChannel(b, async (tx) => {
        await tx.putCharge(makeCharge(b, "1", { payer: PAYER_B, amount: 7n, units: 3n, status: "committed", createdAt: T0 + 10 }));
        await tx.putCharge(makeCharge(b, "2", { payer: PAYER_B, amount: 1n << 70n, units: 1n, status: "committed", createdAt: T0 + 2 * HOUR }));
      });

      assert.deepEqual(await store.usage({ period: "hour" }), [
        { payer: PAYER_A, period: "2024-01-31T22:00:00.000Z", route: "unknown", unitType: "request", amount: 2n * big, units: big + 1n, charges: 2, payments: 0 },
        { payer: PAYER_B, period: "2024-01-31T22:00:00.000Z", route: "unknown", unitType: "request", amount: 7n, units: 3n, charges: 1, payments: 0 },
        { payer: PAYER_A, period: "2024-01-31T23:00:00.000Z", route: "unknown", unitType: "request", amount: big, units: 2n, charges: 1, payments: 0 },
        { payer: PAYER_A, period: "2024-02-01T00:00:00.000Z", route: "unknown", unitType: "request", amount: 5n, units: 1n, charges: 1, payments: 0 },
        { payer: PAYER_B, period: "2024-02-01T00:00:00.000Z", route: "unknown", unitType: "request", amount: 1n << 70n, units: 1n, charges: 1, payments: 0 },
      ]);
      assert.deepEqual(await store.usage({ period: "day" }), [
        { payer: PAYER_A, period: "2024-01-31T00:00:00.000Z", route: "unknown", unitType: "request", amount: 3n * big, units: big + 3n, charges: 3, payments: 0 },
        { payer: PAYER_B, period: "2024-01-31T00:00:00.000Z", route: "unknown", unitType: "request", amount: 7n, units: 3n, charges: 1, payments: 0 },
        { payer: PAYER_A, period: "2024-02-01T00:00:00.000Z", route: "unknown", unitType: "request", amount: 5n, units: 1n, charges: 1, payments: 0 },
        { payer: PAYER_B, period: "2024-02-01T00:00:00.000Z", route: "unknown", unitType: "request", amount: 1n << 70n, units: 1n, charges: 1, payments: 0 },
      ]);
      assert.ok(3n * big > 1n << 129n);
      assert.deepEqual(await store.usage({ period: "month", payer: PAYER_A }), [
        { payer: PAYER_A, period: "2024-01-01T00:00:00.000Z", route: "unknown", unitType: "request", amount: 3n * big, units: big + 3n, charges: 3, payments: 0 },
        { payer: PAYER_A, period: "2024-02-01T00:00:00.000Z", route: "unknown", unitType: "request", amount: 5n, units: 1n, charges: 1, payments: 0 },
      ]);
      // from is inclusive, to exclusive.
      assert.deepEqual(await store.usage({ period: "month", from: T0 + 10, to: T0 + 90 * 60_000 }), [
        { payer: PAYER_A, period: "2024-01-01T00:00:00.000Z", route: "unknown", unitType: "request", amount: 2n * big, units: big + 2n, charges: 2, payments: 0 },
        { payer: PAYER_B, period: "2024-01-01T00:00:00.000Z", route: "unknown", unitType: "request", amount: 7n, units: 3n, charges: 1, payments: 0 },
      ]);
      assert.deepEqual(await store.usage({ period: "day", from: T0 + 90 * 60_000, payer: PAYER_B }), [
        { payer: PAYER_B, period: "2024-02-01T00:00:00.000Z", route: "unknown", unitType: "request", amount: 1n << 70n, units: 1n, charges: 1, payments: 0 },
      ]);
      assert.deepEqual(await store.usage({ period: "hour", to: T0 }), []);
      await assert.rejects(store.usage({ period: "week" as "day" }), assertStoreError("misuse"));
    });

    it("test_store_usageGroupsByRouteAndUnitTypeAndCountsSettledPayments", async () => {
      const a = newChannelId();
      const photos = { route: "photos", unitType: "photo" };
      await store.withChannel(a, async (tx) => {
        await tx.putCharge(makeCharge(a, "1", { payer: PAYER_A, amount: MAX_UINT128, units: 2n, status: "committed", createdAt: T0, ...photos }));
        await tx.putCharge(makeCharge(a, "2", { payer: PAYER_A, amount: 3n, units: 1n, status: "committed", createdAt: T0 + 1, route: "search" }));
        // Stored before schema 4: no route, no unit type.
        await tx.putCharge(makeCharge(a, "3", { payer: PAYER_A, amount: 4n, units: 1n, status: "committed", createdAt: T0 + 2 }));
        await tx.putCharge(makeCharge(a, "4", { payer: PAYER_A, amount: 1000n, status: "reserved", createdAt: T0, ...photos }));
      });
      // Settled one-time payments count; pending, released and failed ones do not.
      for (const [status, amount, payer] of [["settled", 10n, PAYER_A], ["settled", 20n, PAYER_B], ["pending", 1000n, PAYER_A], ["released", 1000n, PAYER_A], ["failed", 1000n, PAYER_A]] as const) {
        await store.insertPayment(makePayment({ status, amount, payer, units: 1n, createdAt: T0 + 3, updatedAt: T0 + 3, ...photos }));
      }
      // A payment of the next day (another period) and one stored before schema 4.
      await store.insertPayment(makePayment({ status: "settled", amount: 5n, payer: PAYER_A, createdAt: T0 + 2 * HOUR, updatedAt: T0 + 2 * HOUR, ...photos }));
      await store.insertPayment(makePayment({ status: "settled", amount: 6n, payer: PAYER_A, createdAt: T0 + 4, updatedAt: T0 + 4 }));

      const day1 = "2024-01-31T00:00:00.000Z";
      assert.deepEqual(await store.usage({ period: "day" }), [
        { payer: PAYER_A, period: day1, route: "photos", unitType: "photo", amount: MAX_UINT128 + 10n, units: 3n, charges: 1, payments: 1 },
        { payer: PAYER_A, period: day1, route: "search", unitType: "request", amount: 3n, units: 1n, charges: 1, payments: 0 },
        { payer: PAYER_A, period: day1, route: "unknown", unitType: "request", amount: 10n, units: 2n, charges: 1, payments: 1 },
        { payer: PAYER_B, period: day1, route: "photos", unitType: "photo", amount: 20n, units: 1n, charges: 0, payments: 1 },
        { payer: PAYER_A, period: "2024-02-01T00:00:00.000Z", route: "photos", unitType: "photo", amount: 5n, units: 1n, charges: 0, payments: 1 },
      ]);
      // The payer and time filters apply to payments as to charges.
      assert.deepEqual(await store.usage({ period: "month", payer: PAYER_B }), [
        { payer: PAYER_B, period: "2024-01-01T00:00:00.000Z", route: "photos", unitType: "photo", amount: 20n, units: 1n, charges: 0, payments: 1 },
      ]);
      assert.deepEqual(
        (await store.usage({ period: "day", from: T0 + 3, to: T0 + 4 })).map(({ payer, amount, payments }) => ({ payer, amount, payments })),
        [{ payer: PAYER_A, amount: 10n, payments: 1 }, { payer: PAYER_B, amount: 20n, payments: 1 }],
      );
      const rows = await store.usage({ period: "month" });
      assert.deepEqual(groupUsage({ rows, by: ["route"] }), [
        { route: "photos", amount: MAX_UINT128 + 35n, units: 5n, charges: 1, payments: 3 },
        { route: "search", amount: 3n, units: 1n, charges: 1, payments: 0 },
        { route: "unknown", amount: 10n, units: 2n, charges: 1, payments: 1 },
      ]);
      assert.deepEqual(groupUsage({ rows, by: ["unitType", "payer"] }), [
        { unitType: "photo", payer: PAYER_A, amount: MAX_UINT128 + 15n, units: 4n, charges: 1, payments: 2 },
        { unitType: "photo", payer: PAYER_B, amount: 20n, units: 1n, charges: 0, payments: 1 },
        { unitType: "request", payer: PAYER_A, amount: 13n, units: 3n, charges: 2, payments: 1 },
      ]);
      assert.deepEqual(groupUsage({ rows, by: [] }), [{ amount: MAX_UINT128 + 48n, units: 8n, charges: 3, payments: 4 }]);
    });

    it("refuses every call once closed", async () => {
      await store.close();
      const id = newChannelId();
      await assert.rejects(store.withChannel(id, async () => undefined), assertStoreError("closed"));
      await assert.rejects(store.getChannel(id), assertStoreError("closed"));
      await assert.rejects(store.listChannels(), assertStoreError("closed"));
      await assert.rejects(store.listCharges({ status: "reserved" }), assertStoreError("closed"));
      await assert.rejects(store.usage({ period: "day" }), assertStoreError("closed"));
      await store.close(); // idempotent
    });

    it("lets a transaction in flight finish when closed during it", async () => {
      const id = newChannelId();
      let started!: () => void;
      const inside = new Promise<void>((resolve) => (started = resolve));
      const running = incrementSpent(store, id, "k", { pause: () => (started(), sleep(20)) });
      await inside;
      await store.close();
      assert.equal(await running, 1n);
    });
  });
}
