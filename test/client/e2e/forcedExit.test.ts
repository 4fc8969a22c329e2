// Forced exit: the seller settles part of what it was paid, then disappears; the buyer requests a close
// on-chain, waits out the grace period and withdraws exactly the deposit minus what was settled.
import assert from "node:assert/strict";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { tollgateEscrowAbi } from "../../../sdk/src/generated/tollgateEscrowAbi.js";
import { createSettlementService } from "../../../sdk/src/server/index.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { buyer, PRICE, type Seller, startSeller, USDC } from "./fixture.js";

describe("client e2e: forced exit after the seller disappears", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let shop: Seller;

  before(async function () {
    chain = await startLocalChain();
    shop = await startSeller({ chain });
  });

  after(async function () {
    await shop?.stop();
    await chain?.stop();
  });

  it("test_forcedExit_requestCloseThenWithdrawRefundsDepositMinusSettled", async function () {
    const account = chain.account(2);
    await chain.mint(account.address, 100n * USDC);
    const buyerBefore = await chain.balanceOf(account.address);
    const sellerBefore = await chain.balanceOf(shop.gate.recipient);
    const pay = buyer(chain, account, { maxDeposit: 1n * USDC });

    for (let i = 0; i < 2; i++) assert.equal((await pay(shop.url)).status, 200);
    // The seller settles the two photos on-chain, then sells a third it never settles.
    await createSettlementService({ gate: shop.gate }).settleAll();
    assert.equal((await pay(shop.url)).status, 200);
    const [channel] = await pay.channels();
    const { channelId } = channel!;
    const deposit = channel!.deposit;
    assert.equal(deposit, 1n * USDC);
    const settled = (await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId }))!.settled;
    assert.equal(settled, 2n * PRICE);

    // The seller disappears.
    await shop.stop();
    await assert.rejects(pay(shop.url), /fetch failed/);

    await pay.requestClose(channelId);
    const requested = (await pay.channels())[0]!;
    assert.ok(requested.closeRequestedAt > 0n);
    const onChainRequested = (await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId }))!;
    assert.equal(onChainRequested.closeRequestedAt, requested.closeRequestedAt);
    // Too early: the grace period protects the seller.
    await assert.rejects(pay.withdraw(channelId), /CloseNotReady/);

    const grace = await chain.publicClient.readContract({ address: chain.escrow, abi: tollgateEscrowAbi, functionName: "CLOSE_GRACE_PERIOD" });
    await chain.increaseTime(Number(grace));
    await pay.withdraw(channelId);

    const final = (await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId }))!;
    assert.equal(final.finalized, true);
    assert.equal(final.settled, settled);
    assert.equal(await chain.balanceOf(account.address), buyerBefore - deposit + (deposit - settled));
    assert.equal(await chain.balanceOf(account.address), buyerBefore - 2n * PRICE);
    assert.equal(await chain.balanceOf(shop.gate.recipient), sellerBefore + 2n * PRICE, "the unsettled third photo is forfeited by the seller");
    assert.equal(await chain.balanceOf(chain.escrow), 0n);
    assert.equal((await pay.channels())[0]!.status, "closed");
  });
});
