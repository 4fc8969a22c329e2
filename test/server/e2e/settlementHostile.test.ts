// Issue 8, items 2 and 3 (settlement part) and "decide and document": the settlement service against
// bad claims on the real chain. It settles only its own gate's channels (chain, escrow, token, payee)
// from a shared store; a claim that would revert is set aside and reported while the others settle in
// the same run, and its channel is refused by the gate; vouchers of contract wallets (ERC-1271) are
// re-checked before settlement, settled on every run and kept to a small credit; and the periodic
// settlement captures at most what was delivered.
import assert from "node:assert/strict";
import hre from "hardhat";
import { type Address, createWalletClient, type Hex, http, type LocalAccount, zeroAddress } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { createCodeCache } from "../../../sdk/src/server/chain.js";
import {
  createSettlementService,
  type PaymentGate,
  type PaymentGateParameters,
  type SessionStore,
  type SettlementEvent,
  type SettlementPolicy,
} from "../../../sdk/src/server/index.js";
import { openChannel } from "../../../sdk/src/transactions/openChannel.js";
import { signVoucher } from "../../../sdk/src/voucher/signVoucher.js";
import type { LocalChain } from "../../../scripts/localChain.js";
import { credential, expectProblem, type Offer, pay, type Payer, randomBytes32, SESSION_PROBLEMS, sellerChain, snapshot, startMeteredGate } from "./helpers.js";

const PRICE = 1_000n;
const DEPOSIT = 100_000n;
const NEVER: SettlementPolicy = { amount: 10n ** 30n, maxAge: 3_600_000 };
const ALWAYS: SettlementPolicy = { maxAge: 0 };

describe("server e2e: settlement against hostile claims", function () {
  this.timeout(120_000);
  const suite = sellerChain();
  let chain: LocalChain;
  let seller: Address;
  let payer: Payer;
  /** The key that owns the contract wallet (MockERC1271Wallet) used as a channel's authorizedSigner. */
  let walletOwner: LocalAccount;
  let walletAbi: readonly unknown[];

  before(async function () {
    ({ chain, seller, payer } = suite);
    walletOwner = chain.account(3);
    walletAbi = (await hre.artifacts.readArtifact("MockERC1271Wallet")).abi;
  });

  const setUp = (overrides: Partial<PaymentGateParameters> = {}) => startMeteredGate(suite, { price: PRICE, deposit: DEPOSIT, ...overrides });

  type Setup = { store: SessionStore; gate: PaymentGate; url: string; offer: Offer };
  /** Who signs a channel's vouchers: the payer's key, or the wallet owner's key for a contract wallet. */
  type Channel = { channelId: Hex; signer: LocalAccount };

  const sign = ({ channelId, signer }: Channel, cumulativeAmount: bigint) =>
    signVoucher({ account: signer, chainId: chain.chain.id, escrow: chain.escrow, channelId, cumulativeAmount });

  /** GET `units` units with a voucher for `cumulativeAmount`. */
  async function spend({ url, offer }: Setup, channel: Channel, cumulativeAmount: bigint, units: bigint) {
    const payload = { action: "voucher" as const, channelId: channel.channelId, cumulativeAmount, signature: await sign(channel, cumulativeAmount) };
    return pay(url, credential(offer.challenge, payload), { headers: { "x-units": units.toString() } });
  }

  /** A channel opened on-chain and used for `spent` (one GET), its vouchers signed by `wallet`'s owner when given. */
  async function channelWith(setup: Setup, spent: bigint, wallet?: Address): Promise<Channel> {
    const salt = randomBytes32();
    const authorizedSigner = wallet ?? zeroAddress;
    const { hash, channelId } = await openChannel({ client: payer.wallet, publicClient: chain.publicClient, escrow: chain.escrow, payee: seller, token: chain.token, deposit: DEPOSIT, salt, authorizedSigner });
    const channel = { channelId, signer: wallet ? walletOwner : payer.account };
    const payload = { action: "open" as const, type: "hash" as const, channelId, hash, cumulativeAmount: spent, signature: await sign(channel, spent), salt, ...(wallet ? { authorizedSigner } : {}) };
    const response = await pay(setup.url, credential(setup.offer.challenge, payload, payer.source), { headers: { "x-units": (spent / PRICE).toString() } });
    assert.equal(response.status, 200, await response.text());
    return channel;
  }

  async function deployWallet(): Promise<Address> {
    const artifact = await hre.artifacts.readArtifact("MockERC1271Wallet");
    const deployer = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: chain.account(0) });
    const hash = await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode as Hex, args: [walletOwner.address] });
    return (await chain.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
  }

  async function setAcceptsSignatures(wallet: Address, accepts: boolean) {
    const owner = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: walletOwner });
    const hash = await owner.writeContract({ address: wallet, abi: walletAbi as never, functionName: "setAcceptsSignatures" as never, args: [accepts] as never });
    await chain.publicClient.waitForTransactionReceipt({ hash });
  }

  function service(gate: PaymentGate, policy: SettlementPolicy) {
    const events: SettlementEvent[] = [];
    return { events, settlement: createSettlementService({ gate, policy, onEvent: (event) => events.push(event) }) };
  }

  const sellerNonce = () => chain.publicClient.getTransactionCount({ address: seller });
  const settledOnChain = async (channelId: Hex) => (await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId }))!.settled;
  const show = (events: SettlementEvent[]) => JSON.stringify(events, (_key, value) => (typeof value === "bigint" ? value.toString() : value));

  describe("scope", function () {
    it("test_settlement_settlesOnlyTheGatesChainEscrowTokenAndPayee", async function () {
      const setup = await setUp();
      const { events, settlement } = service(setup.gate, ALWAYS);
      const own = await channelWith(setup, 3n * PRICE);
      // Records of other gates sharing the store: same payee, another escrow, token or chain.
      const template = (await setup.store.getChannel(own.channelId))!;
      const foreign = [
        { escrow: "0x5555555555555555555555555555555555555555" as Address },
        { token: "0x6666666666666666666666666666666666666666" as Address },
        { chainId: 8453 },
      ].map((difference) => ({ ...template, ...difference, channelId: randomBytes32(), acceptedCumulative: 7n * PRICE, spent: 7n * PRICE }));
      for (const record of foreign) await setup.store.withChannel(record.channelId, (tx) => tx.putChannel(record));

      const nonce = await sellerNonce();
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 1, show(events));
      const settled = events.find((event) => event.type === "settled");
      assert.ok(settled?.type === "settled", show(events));
      assert.deepEqual(settled.channelIds, [own.channelId]);
      assert.equal(await settledOnChain(own.channelId), 3n * PRICE);
      // The other gates' records are not this service's business: untouched, never reported.
      for (const record of foreign) assert.deepEqual(await setup.store.getChannel(record.channelId), record);
      assert.ok(!events.some((event) => event.type === "claim-rejected" || event.type === "error"), show(events));
    });
  });

  describe("a bad claim", function () {
    it("test_settlement_badClaimIsSetAsideAndTheRestSettleInTheSameRun", async function () {
      const setup = await setUp();
      const { events, settlement } = service(setup.gate, ALWAYS);
      const [forged, overdrawn, healthy1, healthy2] = [
        await channelWith(setup, 2n * PRICE),
        await channelWith(setup, 2n * PRICE),
        await channelWith(setup, 3n * PRICE),
        await channelWith(setup, 4n * PRICE),
      ] as [Channel, Channel, Channel, Channel];
      // Records written by a hostile or broken gate: a voucher signed by someone else, and a voucher of
      // the payer's above the deposit (the escrow would revert with AmountExceedsDeposit).
      const signature = await signVoucher({ account: chain.account(7), chainId: chain.chain.id, escrow: chain.escrow, channelId: forged.channelId, cumulativeAmount: 2n * PRICE });
      await setup.store.withChannel(forged.channelId, async (tx) => tx.putChannel({ ...tx.channel!, acceptedSignature: signature }));
      const above = DEPOSIT + PRICE;
      const overdraft = await sign(overdrawn, above);
      await setup.store.withChannel(overdrawn.channelId, async (tx) =>
        tx.putChannel({ ...tx.channel!, deposit: above, acceptedCumulative: above, spent: above, acceptedSignature: overdraft }),
      );

      const nonce = await sellerNonce();
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 1, `the healthy claims settle in the same run, in one transaction: ${show(events)}`);
      const settled = events.find((event) => event.type === "settled");
      assert.ok(settled?.type === "settled");
      assert.deepEqual(new Set(settled.channelIds), new Set([healthy1.channelId, healthy2.channelId]));
      assert.equal(await settledOnChain(healthy1.channelId), 3n * PRICE);
      assert.equal(await settledOnChain(healthy2.channelId), 4n * PRICE);
      const rejected = new Map(events.flatMap((event) => (event.type === "claim-rejected" ? [[event.channelId, event.reason]] : [])));
      assert.equal(rejected.size, 2, show(events));
      assert.match(rejected.get(forged.channelId) ?? "", /not signed by/);
      assert.match(rejected.get(overdrawn.channelId) ?? "", /AmountExceedsDeposit/);

      // Those channels are no longer served, even with a valid voucher from their payer.
      await expectProblem(await spend(setup, forged, 3n * PRICE, 1n), 410, `${SESSION_PROBLEMS}channel-finalized`);
      await expectProblem(await spend(setup, overdrawn, 3n * PRICE, 1n), 410, `${SESSION_PROBLEMS}channel-finalized`);
      // And the next run sends nothing: the bad claims are not retried.
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 1, show(events));
      assert.equal(events.filter((event) => event.type === "claim-rejected").length, 2);
    });
  });

  describe("contract wallets (ERC-1271)", function () {
    it("test_settlement_revokedWalletVoucherIsRejectedBeforeSettlement", async function () {
      const wallet = await deployWallet();
      const setup = await setUp();
      const { events, settlement } = service(setup.gate, NEVER);
      const walletChannel = await channelWith(setup, 2n * PRICE, wallet);
      const eoaChannel = await channelWith(setup, 3n * PRICE);
      // The wallet revokes its signatures (a key rotation, or an attack) before the seller settles.
      await setAcceptsSignatures(wallet, false);

      const nonce = await sellerNonce();
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce, `nothing is sent for a voucher the wallet no longer honours: ${show(events)}`);
      const rejected = events.find((event) => event.type === "claim-rejected");
      assert.ok(rejected?.type === "claim-rejected" && rejected.channelId === walletChannel.channelId, show(events));
      assert.equal(await settledOnChain(walletChannel.channelId), 0n);
      // Re-enabled, the wallet still cannot buy more on a channel whose voucher it let fail.
      await setAcceptsSignatures(wallet, true);
      await expectProblem(await spend(setup, walletChannel, 3n * PRICE, 1n), 410, `${SESSION_PROBLEMS}channel-finalized`);
      // The EOA channel is unaffected.
      assert.equal((await spend(setup, eoaChannel, 4n * PRICE, 1n)).status, 200);
    });

    it("test_settlement_contractSignerChannelsSettleOnEveryRun", async function () {
      const wallet = await deployWallet();
      const setup = await setUp();
      const { events, settlement } = service(setup.gate, NEVER);
      const walletChannel = await channelWith(setup, 2n * PRICE, wallet);
      const eoaChannel = await channelWith(setup, 3n * PRICE);
      const nonce = await sellerNonce();
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 1, show(events));
      const settled = events.find((event) => event.type === "settled");
      assert.ok(settled?.type === "settled");
      assert.deepEqual(settled.channelIds, [walletChannel.channelId]);
      assert.equal(await settledOnChain(walletChannel.channelId), 2n * PRICE);
      assert.equal(await settledOnChain(eoaChannel.channelId), 0n, "an EOA's voucher waits for the policy");
    });

    it("test_gate_contractSignerCreditBoundsUnsettledService", async function () {
      const wallet = await deployWallet();
      const setup = await setUp({ contractSignerCredit: 3n * PRICE });
      const { settlement } = service(setup.gate, NEVER);
      const walletChannel = await channelWith(setup, PRICE, wallet);
      assert.equal((await spend(setup, walletChannel, 3n * PRICE, 2n)).status, 200);
      // 3 units delivered and unsettled: the credit is used up, so the next request is refused, nothing charged.
      const before = await snapshot(setup.store);
      const refused = await spend(setup, walletChannel, 4n * PRICE, 1n);
      await expectProblem(refused, 429, "https://tollgate.dev/problems/settlement-pending");
      assert.deepEqual(await snapshot(setup.store), before);
      // Once settlement catches up the channel is served again.
      await settlement.runOnce();
      assert.equal(await settledOnChain(walletChannel.channelId), 3n * PRICE);
      assert.equal((await spend(setup, walletChannel, 4n * PRICE, 1n)).status, 200);
      // EOA-signed channels are not limited.
      const eoaChannel = await channelWith(setup, PRICE);
      assert.equal((await spend(setup, eoaChannel, 10n * PRICE, 9n)).status, 200);
    });

    it("test_codeCache_forgetsCodeAfterItsTtl", async function () {
      // An EIP-7702 account gains (or drops) code: a remembered answer must not outlive the TTL.
      const clock = { now: 1_000_000 };
      const address = chain.account(9).address;
      const hasCode = createCodeCache(chain.publicClient, { ttl: 60_000, now: () => clock.now });
      assert.equal(await hasCode(address), false);
      await chain.publicClient.request({ method: "hardhat_setCode" as never, params: [address, "0x6001600155"] as never });
      clock.now += 59_999;
      assert.equal(await hasCode(address), false, "remembered within the TTL");
      clock.now += 1;
      assert.equal(await hasCode(address), true, "read again after the TTL");
      await chain.publicClient.request({ method: "hardhat_setCode" as never, params: [address, "0x"] as never });
      clock.now += 60_000;
      assert.equal(await hasCode(address), false);
    });
  });

  describe("what was delivered", function () {
    it("test_settlement_waitsUntilSpentCatchesUpWithTheVoucher", async function () {
      const setup = await setUp();
      const { events, settlement } = service(setup.gate, ALWAYS);
      const channel = await channelWith(setup, 2n * PRICE);
      // A voucher for 5 units over HEAD (prepaid): accepted, not delivered.
      const payload = { action: "voucher" as const, channelId: channel.channelId, cumulativeAmount: 5n * PRICE, signature: await sign(channel, 5n * PRICE) };
      assert.equal((await pay(setup.url, credential(setup.offer.challenge, payload), { method: "HEAD" })).status, 204);
      const nonce = await sellerNonce();
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce, `a voucher above what was delivered waits: ${show(events)}`);
      assert.equal(await settledOnChain(channel.channelId), 0n);
      // Delivered up to the voucher: now it settles, exactly.
      assert.equal((await spend(setup, channel, 5n * PRICE, 3n)).status, 200);
      await settlement.runOnce();
      assert.equal(await sellerNonce(), nonce + 1);
      assert.equal(await settledOnChain(channel.channelId), 5n * PRICE);
    });
  });
});
