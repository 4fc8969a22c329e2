// A seller that pays gas: the client opens through an EIP-3009 authorization the seller relays, tops up
// through the voucher's deposit extension, and never sends a transaction or spends ether.
import assert from "node:assert/strict";
import { parseEventLogs } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { tollgateEscrowAbi } from "../../../sdk/src/generated/tollgateEscrowAbi.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { buyer, countingAccount, PRICE, recordingFetch, type Seller, startSeller, transactionsSince, USDC } from "./fixture.js";

describe("client e2e: feePayer (relayed open and top-up)", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let shop: Seller;

  before(async function () {
    chain = await startLocalChain();
    shop = await startSeller({ chain, gate: { feePayer: true }, route: { suggestedDeposit: 3n * PRICE } });
  });

  after(async function () {
    await shop?.stop();
    await chain?.stop();
  });

  it("test_feePayer_relayedOpenAndDepositExtensionTopUpsCostTheBuyerNoGas", async function () {
    const account = countingAccount(chain.account(2));
    await chain.mint(account.address, 100n * USDC);
    const ethBefore = await chain.publicClient.getBalance({ address: account.address });
    const tokensBefore = await chain.balanceOf(account.address);
    const sellerEthBefore = await chain.publicClient.getBalance({ address: shop.gate.recipient });
    const startBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const fetch = recordingFetch();
    // The account signs the vouchers (no session key), so that they can be counted at the account.
    const pay = buyer(chain, account, { fetch, sessionKeys: false });

    // The open: relayed, so the buyer's ether does not move.
    assert.equal((await pay(shop.url)).status, 200);
    assert.equal(await chain.publicClient.getBalance({ address: account.address }), ethBefore);
    assert.deepEqual([fetch.sent[0]!.action, fetch.sent[0]!.type], ["open", "authorization"]);
    const [opened] = await pay.channels();
    const onChainOpened = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId: opened!.channelId });
    assert.equal(onChainOpened!.deposit, 3n * PRICE);
    assert.equal(onChainOpened!.payer, account.address);

    // Six more photos: the deposit runs out at photos 4 and 7, each time topped up through the voucher.
    for (let i = 0; i < 6; i++) assert.equal((await pay(shop.url)).status, 200);
    assert.deepEqual(
      fetch.sent.slice(1).map((sent) => [sent.action, sent.cumulativeAmount, sent.deposit, sent.status]),
      [2, 3, 4, 5, 6, 7].map((photo) => ["voucher", BigInt(photo) * PRICE, photo === 4 || photo === 7, 200]),
    );
    const [channel] = await pay.channels();
    assert.equal(channel!.deposit, 9n * PRICE);
    const onChain = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId: channel!.channelId });
    assert.equal(onChain!.deposit, 9n * PRICE);
    assert.equal((await shop.store.getChannel(channel!.channelId))!.deposit, 9n * PRICE);

    // Every transaction was the seller's; the buyer signed authorizations and vouchers only.
    const logs = await chain.publicClient.getLogs({ address: chain.escrow, fromBlock: startBlock + 1n });
    assert.equal(parseEventLogs({ abi: tollgateEscrowAbi, eventName: "ChannelOpened", logs }).length, 1);
    assert.equal(parseEventLogs({ abi: tollgateEscrowAbi, eventName: "ChannelToppedUp", logs }).length, 2);
    assert.equal(await transactionsSince(chain, startBlock), 3, "openWithAuthorization + 2 topUpWithAuthorization");
    assert.equal(await chain.publicClient.getTransactionCount({ address: account.address }), 0);
    assert.equal(account.signed.transactions, 0);
    assert.equal(await chain.publicClient.getBalance({ address: account.address }), ethBefore);
    assert.ok((await chain.publicClient.getBalance({ address: shop.gate.recipient })) < sellerEthBefore, "the seller paid the gas");
    assert.equal(account.signed.typedData.filter((type) => type === "Voucher").length, 7);
    assert.equal(account.signed.typedData.filter((type) => type === "ReceiveWithAuthorization").length, 3);
    assert.equal(await chain.balanceOf(account.address), tokensBefore - 9n * PRICE);

    // The cooperative close is the seller's transaction too: the buyer pays exactly seven photos.
    const closed = await pay.close({ url: shop.url });
    assert.equal(closed.settled, 7n * PRICE);
    assert.equal(closed.refund, 2n * PRICE);
    assert.equal(await chain.balanceOf(account.address), tokensBefore - 7n * PRICE);
    assert.equal(await chain.publicClient.getBalance({ address: account.address }), ethBefore);
  });
  it("test_feePayer_aRelayedTopUpThatFailsIsNotCountedAsDeposit", async function () {
    // The buyer holds exactly the opening deposit: the relayed top-up for the fourth photo cannot be paid.
    const account = chain.account(3);
    await chain.mint(account.address, 3n * PRICE);
    const pay = buyer(chain, account);
    for (let i = 0; i < 3; i++) assert.equal((await pay(shop.url)).status, 200);
    const refused = await pay(shop.url);
    assert.equal(refused.status, 402, await refused.clone().text());
    const [channel] = await pay.channels();
    const onChain = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId: channel!.channelId });
    assert.equal(onChain!.deposit, 3n * PRICE);

    // Funded again, the buyer's next request tops up for real and is served.
    await chain.mint(account.address, 100n * USDC);
    const response = await pay(shop.url);
    assert.equal(response.status, 200, await response.clone().text());
    const [after] = await pay.channels();
    const onChainAfter = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId: after!.channelId });
    assert.equal(after!.deposit, onChainAfter!.deposit);
    assert.equal(onChainAfter!.deposit, 6n * PRICE);
    assert.equal(after!.spent, 4n * PRICE);
  });
});
