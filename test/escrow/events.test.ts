// An indexer must be able to rebuild every channel from the escrow's events alone. A seeded random mix of
// every state-changing call runs, then the log replay is compared with getChannel for each channel.
import assert from "node:assert/strict";
import { network } from "hardhat";
import type { Address, Hex } from "viem";
import { getAddress, maxUint256 } from "viem";
import {
  USDC,
  ZERO,
  channelIdOf,
  deployEscrowWorld,
  keyOf,
  nextSalt,
  normalizeChannel,
  openNonce,
  signPayeeAuthorization,
  signReceiveAuthorization,
  topUpNonce,
  type ChannelView,
} from "./helpers.js";

const { viem, networkHelpers } = await network.create();

async function escrowWorld() {
  return deployEscrowWorld(viem);
}

/** mulberry32: a small deterministic PRNG so a failure replays identically. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    big: (lo: bigint, hi: bigint) => lo + (BigInt(Math.floor(next() * 2 ** 32)) % (hi - lo + 1n)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}

type Replayed = ChannelView;

describe("TollgateEscrow events", () => {
  it("test_events_rebuild_every_channel_after_random_mixed_sequence", async () => {
    const w = await networkHelpers.loadFixture(escrowWorld);
    const rnd = prng(0x70116a7e);
    const payers = [w.payer, w.payer2] as const;
    const payees = [w.payee, w.payee2] as const;
    const sessionKey = w.sessionKeyHolder.account.address;
    const ids: Hex[] = [];
    const signerOf = new Map<Hex, Address>();
    const payeeNonces = new Map<Hex, bigint>();
    const counts: Record<string, number> = {};
    const count = (op: string) => (counts[op] = (counts[op] ?? 0) + 1);
    const nextPayeeNonce = (id: Hex) => {
      const n = (payeeNonces.get(id) ?? 0n) + 1n;
      payeeNonces.set(id, n);
      return n;
    };
    const read = async (id: Hex) => normalizeChannel(await w.escrow.read.getChannel([id]));
    const walletFor = (address: Address) =>
      [...payers, ...payees].find((x) => getAddress(x.account.address) === getAddress(address))!;
    const voucher = (id: Hex, amount: bigint) => w.voucher(id, amount, signerOf.get(id)!);

    async function openOne(relayed: boolean) {
      const payer = rnd.pick(payers);
      const payee = getAddress(rnd.pick(payees).account.address);
      const signer = rnd.int(3) === 0 ? sessionKey : ZERO;
      const deposit = rnd.big(1n, 500n) * USDC;
      const salt = nextSalt();
      const from = getAddress(payer.account.address);
      if (relayed) {
        const nonce = openNonce(from, payee, w.token.address, salt, signer);
        const signature = await signReceiveAuthorization(keyOf(from), w.token, {
          from,
          to: w.escrow.address,
          value: deposit,
          validAfter: 0n,
          validBefore: maxUint256,
          nonce,
        });
        await w.escrow.write.openWithAuthorization(
          [payee, w.token.address, deposit, salt, signer, from, 0n, maxUint256, nonce, signature],
          { account: w.relayer.account },
        );
      } else {
        await w.escrow.write.open([payee, w.token.address, deposit, salt, signer], { account: payer.account });
      }
      const id = channelIdOf(from, payee, w.token.address, salt, signer, w.escrow.address);
      ids.push(id);
      signerOf.set(id, signer === ZERO ? from : signer);
      count(relayed ? "openWithAuthorization" : "open");
    }

    for (let i = 0; i < 6; i++) await openOne(i % 2 === 1);

    for (let step = 0; step < 70; step++) {
      const op = rnd.int(11);
      if (op === 10) {
        await openOne(rnd.int(2) === 0);
        continue;
      }
      const live: Array<[Hex, ChannelView]> = [];
      for (const id of ids) {
        const ch = await read(id);
        if (!ch.finalized) live.push([id, ch]);
      }
      if (live.length === 0) {
        await openOne(false);
        continue;
      }
      const [id, ch] = rnd.pick(live);
      const payee = walletFor(ch.payee);
      const payer = walletFor(ch.payer);
      const canSettle = ch.settled < ch.deposit;
      const higher = () => rnd.big(ch.settled + 1n, ch.deposit);
      switch (op) {
        case 0: {
          await w.escrow.write.topUp([id, rnd.big(1n, 50n) * USDC], { account: payer.account });
          count("topUp");
          break;
        }
        case 1: {
          const from = getAddress(rnd.pick(payers).account.address);
          const amount = rnd.big(1n, 50n) * USDC;
          const topUpSalt = nextSalt();
          const nonce = topUpNonce(id, amount, from, topUpSalt);
          const signature = await signReceiveAuthorization(keyOf(from), w.token, {
            from,
            to: w.escrow.address,
            value: amount,
            validAfter: 0n,
            validBefore: maxUint256,
            nonce,
          });
          await w.escrow.write.topUpWithAuthorization([id, amount, from, topUpSalt, 0n, maxUint256, nonce, signature], {
            account: w.relayer.account,
          });
          count("topUpWithAuthorization");
          break;
        }
        case 2:
        case 3: {
          if (!canSettle) break;
          const amount = higher();
          await w.escrow.write.settle([id, amount, await voucher(id, amount)], { account: payee.account });
          count("settle");
          break;
        }
        case 4: {
          // Every live, settleable channel of this payee, in one batch.
          const claims = [];
          for (const [otherId, other] of live) {
            if (other.payee !== ch.payee || other.settled >= other.deposit || rnd.int(2) === 0) continue;
            const amount = rnd.big(other.settled + 1n, other.deposit);
            claims.push({ channelId: otherId, cumulativeAmount: amount, signature: await voucher(otherId, amount) });
          }
          await w.escrow.write.settleBatch([w.token.address, claims], { account: payee.account });
          count("settleBatch");
          break;
        }
        case 5: {
          if (!canSettle) break;
          const amount = higher();
          const nonce = nextPayeeNonce(id);
          const auth = await signPayeeAuthorization(keyOf(ch.payee), "settle", w.escrow.address, {
            channelId: id,
            cumulativeAmount: amount,
            nonce,
            deadline: maxUint256,
          });
          await w.escrow.write.settleWithAuthorization([id, amount, nonce, maxUint256, auth, await voucher(id, amount)], {
            account: w.relayer.account,
          });
          count("settleWithAuthorization");
          break;
        }
        case 6: {
          if (ch.closeRequestedAt !== 0n) break;
          await w.escrow.write.requestClose([id], { account: payer.account });
          count("requestClose");
          break;
        }
        case 7: {
          if (ch.closeRequestedAt === 0n) break;
          await networkHelpers.time.increase(900);
          await w.escrow.write.withdraw([id], { account: payer.account });
          count("withdraw");
          break;
        }
        case 8: {
          const forfeit = !canSettle || rnd.int(2) === 0;
          const amount = forfeit ? rnd.big(0n, ch.settled) : higher();
          await w.escrow.write.close([id, amount, forfeit ? "0x" : await voucher(id, amount)], { account: payee.account });
          count("close");
          break;
        }
        case 9: {
          const forfeit = !canSettle || rnd.int(2) === 0;
          const amount = forfeit ? ch.settled : higher();
          const nonce = nextPayeeNonce(id);
          const auth = await signPayeeAuthorization(keyOf(ch.payee), "close", w.escrow.address, {
            channelId: id,
            cumulativeAmount: amount,
            nonce,
            deadline: maxUint256,
          });
          await w.escrow.write.closeWithAuthorization(
            [id, amount, nonce, maxUint256, auth, forfeit ? "0x" : await voucher(id, amount)],
            { account: w.relayer.account },
          );
          count("closeWithAuthorization");
          break;
        }
      }
    }

    // Every kind of call ran at least once, so every event kind is exercised by the replay.
    for (const op of [
      "open",
      "openWithAuthorization",
      "topUp",
      "topUpWithAuthorization",
      "settle",
      "settleBatch",
      "settleWithAuthorization",
      "requestClose",
      "withdraw",
      "close",
      "closeWithAuthorization",
    ]) {
      assert.ok((counts[op] ?? 0) > 0, `sequence never ran ${op}: ${JSON.stringify(counts)}`);
    }

    // Replay the logs.
    const logs = await w.publicClient.getContractEvents({ address: w.escrow.address, abi: w.escrow.abi, fromBlock: 0n });
    const replayed = new Map<Hex, Replayed>();
    const eventCounts: Record<string, number> = {};
    for (const log of logs) {
      eventCounts[log.eventName] = (eventCounts[log.eventName] ?? 0) + 1;
      const args = log.args as Record<string, unknown> & { channelId: Hex };
      const state = replayed.get(args.channelId);
      if (log.eventName === "ChannelOpened") {
        assert.equal(state, undefined, "opened twice");
        replayed.set(args.channelId, {
          payer: getAddress(args.payer as Address),
          payee: getAddress(args.payee as Address),
          token: getAddress(args.token as Address),
          authorizedSigner: getAddress(args.authorizedSigner as Address),
          deposit: args.deposit as bigint,
          settled: 0n,
          closeRequestedAt: 0n,
          finalized: false,
        });
        continue;
      }
      assert.ok(state !== undefined, `${log.eventName} before ChannelOpened`);
      assert.equal(state.finalized, false, `${log.eventName} after finalization`);
      switch (log.eventName) {
        case "ChannelToppedUp":
          assert.equal(state.deposit + (args.additionalDeposit as bigint), args.deposit);
          state.deposit = args.deposit as bigint;
          break;
        case "ChannelSettled":
          assert.ok((args.settled as bigint) > state.settled);
          state.settled = args.settled as bigint;
          break;
        case "CloseRequested":
          state.closeRequestedAt = args.closeRequestedAt as bigint;
          break;
        case "CloseRequestCancelled":
          state.closeRequestedAt = 0n;
          break;
        case "ChannelClosed":
          assert.equal(args.amount, (args.settled as bigint) - state.settled);
          assert.equal(args.refund, state.deposit - (args.settled as bigint));
          state.settled = args.settled as bigint;
          finalize(state);
          break;
        case "ChannelWithdrawn":
          assert.equal(args.refund, state.deposit - state.settled);
          finalize(state);
          break;
        default:
          assert.fail(`unexpected event ${log.eventName}`);
      }
    }
    for (const name of ["ChannelToppedUp", "ChannelSettled", "CloseRequested", "CloseRequestCancelled", "ChannelClosed", "ChannelWithdrawn"]) {
      assert.ok((eventCounts[name] ?? 0) > 0, `no ${name} in the replay: ${JSON.stringify(eventCounts)}`);
    }

    assert.equal(replayed.size, ids.length);
    let owed = 0n;
    for (const id of ids) {
      const fromLogs = replayed.get(id);
      assert.deepEqual(fromLogs, await read(id), `channel ${id}`);
      if (!fromLogs!.finalized) owed += fromLogs!.deposit - fromLogs!.settled;
    }
    // The escrow holds exactly what its live channels still owe.
    assert.equal(await w.token.read.balanceOf([w.escrow.address]), owed);
  });
});

/** A finalized record clears `payee` and `closeRequestedAt` (slot 1 is cleared for its gas refund). */
function finalize(state: { payee: Address; closeRequestedAt: bigint; finalized: boolean }) {
  state.payee = ZERO_ADDRESS_FOR_FINALIZED;
  state.closeRequestedAt = 0n;
  state.finalized = true;
}

const ZERO_ADDRESS_FOR_FINALIZED: Address = "0x0000000000000000000000000000000000000000";
