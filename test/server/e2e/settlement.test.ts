// Issue 4, items 4 and 5: the settlement service on the real chain. A payer's forced close is closed
// by the watcher with the highest voucher long before the grace period; thresholds (amount, channels,
// age) settle many channels in one settleBatch transaction; a stale claim does not block the others.
import assert from "node:assert/strict";
import { type Address, createWalletClient, type Hex, http, parseEventLogs } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { ContractRevertedError } from "../../../sdk/src/errors/ContractRevertedError.js";
import { tollgateEscrowAbi } from "../../../sdk/src/generated/tollgateEscrowAbi.js";
import {
  createSettlementService,
  type PaymentGate,
  type SettlementEvent,
  type SettlementPolicy,
} from "../../../sdk/src/server/index.js";
import { closeChannel } from "../../../sdk/src/transactions/closeChannel.js";
import { requestChannelClose } from "../../../sdk/src/transactions/requestChannelClose.js";
import { settleChannel } from "../../../sdk/src/transactions/settleChannel.js";
import { withdrawChannel } from "../../../sdk/src/transactions/withdrawChannel.js";
import type { LocalChain } from "../../../scripts/localChain.js";
import { credential, expectProblem, pay, type Payer, SELLER, SESSION_PROBLEMS, sellerChain, startMeteredGate } from "./helpers.js";

const PRICE = 1_000n;
const DEPOSIT = 100_000n;

describe("server e2e: settlement service", function () {
  this.timeout(90_000);
  const suite = sellerChain();
  let chain: LocalChain;
  let seller: Address;
  let payer: Payer;
  before(() => ({ chain, seller, payer } = suite));

  /** A gate on a store of its own behind a server; `clock` shifts the gate's time. */
  const setUp = (clock = { offset: 0 }) => startMeteredGate(suite, { price: PRICE, deposit: DEPOSIT, now: () => Date.now() + clock.offset });

  type Setup = Awaited<ReturnType<typeof setUp>>;

  /** A channel the gate holds a voucher of `accepted` on, all of it spent by one GET (settlement takes only what was delivered). */
  async function channelWith({ url, offer }: Setup, accepted: bigint): Promise<Hex> {
    const opened = await payer.openOnChain(seller, DEPOSIT);
    const response = await pay(url, credential(offer.challenge, await payer.openPayload(opened, accepted), payer.source), { headers: { "x-units": (accepted / PRICE).toString() } });
    assert.equal(response.status, 200, await response.text());
    return opened.channelId;
  }

  /** Raises the channel's voucher from `from` to `accepted`, spending the difference. */
  async function raise({ url, offer }: Setup, channelId: Hex, from: bigint, accepted: bigint) {
    const response = await pay(url, credential(offer.challenge, await payer.voucher(channelId, accepted)), { headers: { "x-units": ((accepted - from) / PRICE).toString() } });
    assert.equal(response.status, 200, await response.text());
  }

  function service(gate: PaymentGate, policy: SettlementPolicy) {
    const events: SettlementEvent[] = [];
    return { events, service: createSettlementService({ gate, policy, onEvent: (event) => events.push(event) }) };
  }

  const sellerNonce = () => chain.publicClient.getTransactionCount({ address: seller });
  const sellerWallet = () => createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: chain.account(SELLER) });

  async function settledEventsOf(hash: Hex) {
    const receipt = await chain.publicClient.getTransactionReceipt({ hash });
    return parseEventLogs({ abi: tollgateEscrowAbi, eventName: "ChannelSettled", logs: receipt.logs }).map((log) => [log.args.channelId, log.args.settled]);
  }

  describe("forced close", function () {
    it("test_forcedClose_watcherClosesWithTheHighestVoucherBeforeTheGracePeriod", async function () {
      const setup = await setUp();
      const { store, gate, url, offer } = setup;
      const { events, service: settlement } = service(gate, { amount: 10n ** 30n, maxAge: 3_600_000 });
      const gracePeriod = (await chain.publicClient.readContract({ address: chain.escrow, abi: tollgateEscrowAbi, functionName: "CLOSE_GRACE_PERIOD" })) as bigint;

      // Paid requests, a settlement of part of it, then more paid requests.
      const opened = await payer.openOnChain(seller, DEPOSIT);
      const first = await pay(url, credential(offer.challenge, await payer.openPayload(opened, PRICE), payer.source));
      assert.equal(first.status, 200);
      const { channelId } = opened;
      for (let i = 2n; i <= 20n; i++) assert.equal((await pay(url, credential(offer.challenge, await payer.voucher(channelId, i * PRICE)))).status, 200);
      await settlement.settleAll();
      assert.equal((await store.getChannel(channelId))!.settledOnChain, 20n * PRICE);
      for (let i = 21n; i <= 35n; i++) assert.equal((await pay(url, credential(offer.challenge, await payer.voucher(channelId, i * PRICE)))).status, 200);

      const sellerBefore = await chain.balanceOf(seller);
      const payerBefore = await chain.balanceOf(payer.address);
      // The payer starts a forced close on-chain.
      const { receipt: requested } = await requestChannelClose({ client: payer.wallet, publicClient: chain.publicClient, escrow: chain.escrow, channelId });
      const closeRequestedAt = (await chain.publicClient.getBlock({ blockNumber: requested.blockNumber })).timestamp;
      // The gate itself notices the pending close when it reads the chain for a voucher beyond the deposit.
      await expectProblem(await pay(url, credential(offer.challenge, await payer.voucher(channelId, DEPOSIT + PRICE))), 410, `${SESSION_PROBLEMS}channel-finalized`);
      // A voucher within the deposit is still taken until the watcher runs: the close must include it.
      assert.equal((await pay(url, credential(offer.challenge, await payer.voucher(channelId, 36n * PRICE)))).status, 200);

      // The watcher acts on a close request two blocks deep (confirmationBlocks).
      for (let i = 0; i < 2; i++) await chain.publicClient.request({ method: "evm_mine" as never, params: [] as never });
      await settlement.runOnce();
      const closed = events.find((event) => event.type === "closed");
      assert.deepEqual(events.filter((e) => e.type !== "error").map((e) => e.type), ["settled", "close-requested", "closed"], JSON.stringify(events, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
      assert.ok(closed?.type === "closed" && closed.reason === "close-requested" && closed.txHash);
      const closeReceipt = await chain.publicClient.getTransactionReceipt({ hash: closed.txHash! });
      const closedAt = (await chain.publicClient.getBlock({ blockNumber: closeReceipt.blockNumber })).timestamp;
      assert.ok(closedAt < closeRequestedAt + gracePeriod, "closed well within the grace period");

      // Exactly acceptedCumulative − settled to the seller, the rest back to the payer.
      const stored = (await store.getChannel(channelId))!;
      assert.equal(stored.status, "closed");
      assert.equal(stored.acceptedCumulative, 36n * PRICE);
      assert.equal(stored.settledOnChain, 36n * PRICE);
      assert.equal(await chain.balanceOf(seller), sellerBefore + 16n * PRICE);
      assert.equal(await chain.balanceOf(payer.address), payerBefore + DEPOSIT - 36n * PRICE);
      const onChain = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId });
      assert.deepEqual([onChain?.finalized, onChain?.settled], [true, 36n * PRICE]);

      // After the grace period the payer's withdraw finds the channel finalized.
      await chain.increaseTime(Number(gracePeriod) + 1);
      await assert.rejects(
        withdrawChannel({ client: payer.wallet, publicClient: chain.publicClient, escrow: chain.escrow, channelId }),
        (error: unknown) => error instanceof ContractRevertedError && error.errorName === "ChannelFinalized",
      );
      await expectProblem(await pay(url, credential(offer.challenge, await payer.voucher(channelId, 35n * PRICE))), 410, `${SESSION_PROBLEMS}channel-finalized`);
      // A second run has nothing left to do.
      const nonce = await sellerNonce();
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce);
    });
  });

  describe("thresholds and batches", function () {
    it("test_settlement_amountThresholdSettlesEveryChannelInOneTransaction", async function () {
      const setup = await setUp();
      const { events, service: settlement } = service(setup.gate, { amount: 21n * PRICE, maxAge: 3_600_000 });
      const nonce = await sellerNonce();
      const channels: Hex[] = [];
      for (let i = 1n; i <= 5n; i++) channels.push(await channelWith(setup, i * PRICE)); // 15 000: below
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce, "settled below the amount threshold");
      channels.push(await channelWith(setup, 6n * PRICE)); // 21 000: at the threshold
      const sellerBefore = await chain.balanceOf(seller);
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 1, "one transaction for all six channels");
      const settled = events.find((e) => e.type === "settled");
      assert.ok(settled?.type === "settled");
      assert.equal(settled.amount, 21n * PRICE);
      assert.deepEqual(new Set(settled.channelIds), new Set(channels));
      assert.deepEqual(
        new Map((await settledEventsOf(settled.txHash)) as [Hex, bigint][]),
        new Map(channels.map((channelId, index) => [channelId, BigInt(index + 1) * PRICE])),
      );
      assert.equal(await chain.balanceOf(seller), sellerBefore + 21n * PRICE);
      for (const [index, channelId] of channels.entries()) {
        assert.equal((await setup.store.getChannel(channelId))!.settledOnChain, BigInt(index + 1) * PRICE);
      }

      // Below the threshold nothing is sent; crossing it again settles only what is new.
      await raise(setup, channels[2]!, 3n * PRICE, 3n * PRICE + 10n * PRICE);
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 1);
      await raise(setup, channels[4]!, 5n * PRICE, 5n * PRICE + 11n * PRICE);
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 2);
      const second = events.filter((e) => e.type === "settled").at(-1);
      assert.ok(second?.type === "settled");
      assert.equal(second.amount, 21n * PRICE);
      assert.deepEqual(new Set(second.channelIds), new Set([channels[2], channels[4]]));
    });

    it("test_settlement_channelCountThresholdSettlesInOneTransaction", async function () {
      const setup = await setUp();
      const { events, service: settlement } = service(setup.gate, { channels: 3, maxAge: 3_600_000 });
      const nonce = await sellerNonce();
      const channels = [await channelWith(setup, PRICE), await channelWith(setup, 2n * PRICE)];
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce);
      channels.push(await channelWith(setup, 3n * PRICE));
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 1);
      const settled = events.find((e) => e.type === "settled");
      assert.ok(settled?.type === "settled");
      assert.deepEqual(new Set(settled.channelIds), new Set(channels));
      assert.equal(settled.amount, 6n * PRICE);
    });

    it("test_settlement_maxAgeSettlesAnOldVoucherAndNothingSooner", async function () {
      const clock = { offset: 0 };
      const setup = await setUp(clock);
      const { events, service: settlement } = service(setup.gate, { amount: 10n ** 30n, maxAge: 60_000 });
      const nonce = await sellerNonce();
      const channels = [await channelWith(setup, PRICE), await channelWith(setup, 4n * PRICE)];
      await settlement.runOnce();
      clock.offset = 59_000;
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce, "settled before maxAge");
      clock.offset = 61_000;
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 1);
      const settled = events.find((e) => e.type === "settled");
      assert.ok(settled?.type === "settled");
      assert.deepEqual(new Set(settled.channelIds), new Set(channels));
      assert.equal(settled.amount, 5n * PRICE);
    });

    it("test_settlement_staleClaimDoesNotBlockTheOthersInTheSameRun", async function () {
      const setup = await setUp();
      const { events, service: settlement } = service(setup.gate, { channels: 1, maxAge: 3_600_000 });
      const [settledElsewhere, finalized, healthy1, healthy2] = [
        await channelWith(setup, 2n * PRICE),
        await channelWith(setup, 3n * PRICE),
        await channelWith(setup, 4n * PRICE),
        await channelWith(setup, 5n * PRICE),
      ] as [Hex, Hex, Hex, Hex];
      // Behind the service's back: one channel settled with the very voucher it holds, another closed.
      const wallet = sellerWallet();
      const held = (await setup.store.getChannel(settledElsewhere))!;
      await settleChannel({ client: wallet, publicClient: chain.publicClient, escrow: chain.escrow, channelId: settledElsewhere, cumulativeAmount: held.acceptedCumulative, signature: held.acceptedSignature! });
      const heldFinal = (await setup.store.getChannel(finalized))!;
      await closeChannel({ client: wallet, publicClient: chain.publicClient, escrow: chain.escrow, channelId: finalized, cumulativeAmount: heldFinal.acceptedCumulative, signature: heldFinal.acceptedSignature! });

      const nonce = await sellerNonce();
      const sellerBefore = await chain.balanceOf(seller);
      // The batch would revert (simulated, not sent): the stale claims are reconciled, not rejected, and
      // the healthy ones settle together in the same run, exactly.
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 1, "one transaction, no reverted one");
      assert.ok(!events.some((e) => e.type === "claim-rejected" || e.type === "error"), JSON.stringify(events, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
      assert.equal((await setup.store.getChannel(settledElsewhere))!.settledOnChain, 2n * PRICE);
      assert.equal((await setup.store.getChannel(finalized))!.status, "closed");
      const settled = events.find((e) => e.type === "settled");
      assert.ok(settled?.type === "settled");
      assert.deepEqual(new Set(settled.channelIds), new Set([healthy1, healthy2]));
      assert.equal(await chain.balanceOf(seller), sellerBefore + 9n * PRICE);
      assert.equal((await setup.store.getChannel(healthy1))!.settledOnChain, 4n * PRICE);
      assert.equal((await setup.store.getChannel(healthy2))!.settledOnChain, 5n * PRICE);
      // And the run after that has nothing to send.
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 1);
    });
  });
});
