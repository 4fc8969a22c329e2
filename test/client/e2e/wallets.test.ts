// Any wallet pays, and with session keys (the default) it is asked once per channel, for the funding, and
// never per request: a local account, the node's unlocked accounts over JSON-RPC (as a browser wallet
// answers), and a contract wallet whose signatures the gate and the token check through ERC-1271.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { custom, type Hex, zeroAddress } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { createMemoryChannelStore, type PayingFetch } from "../../../sdk/src/client/index.js";
import { createFileChannelStore } from "../../../sdk/src/client/fileStore.js";
import { buyer, clientSuite, PRICE, type Seller, SELLER, transactionsSince, USDC } from "./fixture.js";
import { contractWallet, jsonRpcWallet } from "./wallets.js";

describe("client e2e: wallets and session keys", function () {
  this.timeout(120_000);
  const suite = clientSuite();
  let shop: Seller;
  let relayedShop: Seller;
  // Unlocked accounts of the node not used by the suite's freshBuyer (which counts up from 2).
  let nextWallet = 12;

  before(async function () {
    shop = await suite.seller();
    relayedShop = await suite.seller({ gate: { feePayer: true } });
  });

  async function fundedJsonRpcWallet() {
    const wallet = jsonRpcWallet(suite.chain, nextWallet++);
    await suite.chain.mint(wallet.address, 100n * USDC);
    return wallet;
  }

  /** Three paid requests, each answered 200 by the real gate. */
  async function buyThree(pay: PayingFetch, url: string) {
    for (let photo = 0; photo < 3; photo++) {
      const response = await pay(url);
      assert.equal(response.status, 200, await response.text());
    }
  }

  /** The channel as the escrow holds it: its payer and the signer its vouchers must recover to. */
  async function onChain(channelId: Hex) {
    return (await getChannel({ client: suite.chain.publicClient, escrow: suite.chain.escrow, channelId }))!;
  }

  it("test_wallets_aLocalAccountSignsNoVoucherWithSessionKeys", async function () {
    const account = await suite.freshBuyer();
    const pay = buyer(suite.chain, account);
    await buyThree(pay, shop.url);
    const [channel] = await pay.channels();
    assert.equal(account.signed.typedData.length, 0, "no voucher signed by the account");
    assert.equal(account.signed.transactions, 2, "approve and open");
    assert.notEqual(channel!.authorizedSigner, zeroAddress);
    assert.equal((await onChain(channel!.channelId)).authorizedSigner, channel!.authorizedSigner);
    assert.equal((await shop.store.getChannel(channel!.channelId))!.spent, 3n * PRICE);
  });

  it("test_wallets_aJsonRpcAccountIsAskedOnlyForTheFundingAndTheKeyIsDroppedOnClose", async function () {
    const wallet = await fundedJsonRpcWallet();
    const store = createMemoryChannelStore();
    const pay = buyer(suite.chain, wallet.client, { store });
    await buyThree(pay, shop.url);
    // Approve and open, each one eth_sendTransaction; nothing per request.
    assert.deepEqual(wallet.prompts, { eth_signTypedData_v4: 0, eth_sendTransaction: 2 });
    const [open] = await pay.channels();
    assert.equal(open!.payer, wallet.address);
    assert.equal(open!.sessionKey, undefined, "the caller is never given the key");
    assert.match((await store.get(open!.key))!.sessionKey ?? "", /^0x[0-9a-f]{64}$/);
    const sellerBefore = await suite.chain.balanceOf(seller());
    const closed = await pay.close({ url: shop.url });
    assert.equal(closed.settled, 3n * PRICE);
    assert.equal(await suite.chain.balanceOf(seller()), sellerBefore + 3n * PRICE, "session-key vouchers settle on-chain");
    assert.deepEqual(wallet.prompts, { eth_signTypedData_v4: 0, eth_sendTransaction: 2 }, "the close needs no wallet prompt");
    const after = (await store.get(open!.key))!;
    assert.equal(after.status, "closed");
    assert.equal(after.sessionKey, undefined, "the key is dropped from the store");
  });

  it("test_wallets_aJsonRpcAccountSignsOneAuthorizationPerChannelWhenTheSellerPaysGas", async function () {
    const wallet = await fundedJsonRpcWallet();
    const pay = buyer(suite.chain, wallet.client);
    await buyThree(pay, relayedShop.url);
    assert.deepEqual(wallet.prompts, { eth_signTypedData_v4: 1, eth_sendTransaction: 0 });
    const [channel] = await pay.channels();
    assert.equal((await onChain(channel!.channelId)).authorizedSigner, channel!.authorizedSigner);
    assert.equal((await relayedShop.store.getChannel(channel!.channelId))!.spent, 3n * PRICE);
  });

  it("test_wallets_withoutSessionKeysTheWalletSignsEachVoucher", async function () {
    const wallet = await fundedJsonRpcWallet();
    const store = createMemoryChannelStore();
    const pay = buyer(suite.chain, wallet.client, { sessionKeys: false, store });
    await buyThree(pay, shop.url);
    assert.deepEqual(wallet.prompts, { eth_signTypedData_v4: 3, eth_sendTransaction: 2 });
    const [channel] = await store.list();
    assert.equal(channel!.authorizedSigner, zeroAddress);
    assert.equal(channel!.sessionKey, undefined);
    assert.equal((await shop.store.getChannel(channel!.channelId))!.spent, 3n * PRICE);
  });

  it("test_wallets_aBareJsonRpcAccountPaysThroughTheTransport", async function () {
    const wallet = await fundedJsonRpcWallet();
    const pay = buyer(suite.chain, { type: "json-rpc", address: wallet.address }, { transport: custom({ request: wallet.request }) });
    await buyThree(pay, shop.url);
    assert.deepEqual(wallet.prompts, { eth_signTypedData_v4: 0, eth_sendTransaction: 2 });
  });

  for (const sessionKeys of [true, false]) {
    it(`test_wallets_aContractWalletBuysThreeRequests${sessionKeys ? "WithASessionKey" : "SigningThroughErc1271"}`, async function () {
      const wallet = await contractWallet(suite.chain, nextWallet++);
      await suite.chain.mint(wallet.address, 100n * USDC);
      const pay = buyer(suite.chain, wallet.client, { sessionKeys });
      await buyThree(pay, shop.url);
      const [channel] = await pay.channels();
      assert.equal((await onChain(channel!.channelId)).payer, wallet.address, "the contract wallet is the channel's payer");
      assert.equal((await shop.store.getChannel(channel!.channelId))!.spent, 3n * PRICE);
      assert.deepEqual(wallet.prompts, { eth_signTypedData_v4: sessionKeys ? 0 : 3, eth_sendTransaction: 2 });
      const closed = await pay.close({ channelId: channel!.channelId });
      assert.equal(closed.settled, 3n * PRICE);
    });
  }

  it("test_wallets_aContractWalletFundsARelayedOpenWithAnErc1271Authorization", async function () {
    const wallet = await contractWallet(suite.chain, nextWallet++);
    await suite.chain.mint(wallet.address, 100n * USDC);
    const pay = buyer(suite.chain, wallet.client);
    const before = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    await buyThree(pay, relayedShop.url);
    assert.deepEqual(wallet.prompts, { eth_signTypedData_v4: 1, eth_sendTransaction: 0 });
    assert.equal(await transactionsSince(suite.chain, before), 1, "the seller's relayed open only");
    const [channel] = await pay.channels();
    assert.equal((await onChain(channel!.channelId)).payer, wallet.address);
  });

  it("test_wallets_aRestartedClientResumesTheChannelWithItsStoredSessionKey", async function () {
    const path = join(mkdtempSync(join(tmpdir(), "tollgate-client-wallets-")), "keys", "channels.json");
    const wallet = await fundedJsonRpcWallet();
    const first = buyer(suite.chain, wallet.client, { store: createFileChannelStore({ path }) });
    assert.equal((await first(shop.url)).status, 200);
    const [opened] = await createFileChannelStore({ path }).list();
    assert.equal(statSync(path).mode & 0o777, 0o600, "the file holding session keys is the owner's only");
    assert.equal(statSync(join(path, "..")).mode & 0o777, 0o700);
    const restarted = buyer(suite.chain, wallet.client, { store: createFileChannelStore({ path }) });
    const prompts = { ...wallet.prompts };
    await buyThree(restarted, shop.url);
    assert.deepEqual(wallet.prompts, prompts, "no new channel, no wallet prompt");
    const [resumed] = await createFileChannelStore({ path }).list();
    assert.equal(resumed!.channelId, opened!.channelId);
    assert.equal(resumed!.sessionKey, opened!.sessionKey);
    assert.equal(resumed!.cumulativeAmount, 4n * PRICE, "the stored key signed on after the restart");
    assert.equal((await shop.store.getChannel(opened!.channelId))!.spent, 4n * PRICE);
    await restarted.close({ url: shop.url });
    assert.equal(readFileSync(path, "utf8").includes(opened!.sessionKey!.slice(2)), false, "the key is gone from the file");
  });

  const seller = () => suite.chain.account(SELLER).address;
});
