// The MPP `evm` charge intent's `permit2` credential on the local chain, against Uniswap's real Permit2
// (test/helpers/permit2.ts): tollgate's paying client buys from a tollgate gate; a replayed or
// concurrent credential is served once; a permit bent in any way the draft checks is refused with
// nothing moved; a handler's 500 transfers nothing; a crash leaves a pending permit that recovery resolves.
import assert from "node:assert/strict";
import { type Address, createWalletClient, erc20Abi, http, type LocalAccount } from "viem";
import { PERMIT2_ADDRESS, permit2Abi } from "../../../sdk/src/authorization/permit2Abi.js";
import { signPermit2Transfer } from "../../../sdk/src/authorization/signPermit2Transfer.js";
import { createPayingFetch } from "../../../sdk/src/client/createPayingFetch.js";
import { ConfigurationError } from "../../../sdk/src/errors/ConfigurationError.js";
import { decodeChallengeRequest, type PaymentChallenge } from "../../../sdk/src/protocol/challenge.js";
import { chargeChallengeHash } from "../../../sdk/src/protocol/charge.js";
import { formatCredential, parseCredential } from "../../../sdk/src/protocol/credential.js";
import { formatChargePermit2Payload, permit2Domain } from "../../../sdk/src/protocol/permit2.js";
import { charge } from "../../../sdk/src/server/index.js";
import { installPermit2, uninstallPermit2 } from "../../helpers/permit2.js";
import { makeGate, sellerChain, snapshot, sqliteStore } from "./helpers.js";
import { fetchChargeChallenge, PRICE, startOneTimeGate } from "./oneTimeFixture.js";

const OTHER_ESCROW: Address = "0x000000000000000000000000000000000000dEaD";

describe("MPP evm charge with permit2 credentials (real Permit2)", function () {
  this.timeout(120_000);
  const suite = sellerChain();
  before(async () => {
    await installPermit2(suite.chain);
    await approvePermit2(suite.payer.account, 100n * PRICE);
  });

  async function approvePermit2(account: LocalAccount, amount: bigint) {
    const wallet = createWalletClient({ chain: suite.chain.chain, transport: http(suite.chain.rpcUrl), account });
    await suite.chain.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: suite.chain.token, abi: erc20Abi, functionName: "approve", args: [PERMIT2_ADDRESS, amount] }) });
  }

  const allowance = (owner: Address) => suite.chain.publicClient.readContract({ address: suite.chain.token, abi: erc20Abi, functionName: "allowance", args: [owner, PERMIT2_ADDRESS] });
  const nonceWord = (owner: Address, nonce: bigint) => suite.chain.publicClient.readContract({ address: PERMIT2_ADDRESS, abi: permit2Abi, functionName: "nonceBitmap", args: [owner, nonce >> 8n] });

  type Bend = { token?: Address; amount?: bigint; to?: Address; spender?: Address; deadline?: bigint; nonce?: bigint; challengeHash?: `0x${string}`; chainId?: number; signer?: LocalAccount };

  /** A permit2 credential answering `challenge`, signed by the payer unless bent by `bend`. */
  async function credential(challenge: PaymentChallenge, bend: Bend = {}) {
    const signer = bend.signer ?? suite.payer.account;
    const challengeHash = chargeChallengeHash(challenge);
    const payload = await signPermit2Transfer({
      account: signer,
      domain: permit2Domain({ chainId: bend.chainId ?? suite.chain.chain.id, permit2: PERMIT2_ADDRESS }),
      spender: bend.spender ?? suite.seller,
      token: bend.token ?? suite.chain.token,
      amount: bend.amount ?? PRICE,
      to: bend.to ?? suite.seller,
      nonce: bend.nonce ?? BigInt(challengeHash),
      deadline: bend.deadline ?? BigInt(Math.floor(Date.now() / 1000) + 300),
      witness: { challengeHash: bend.challengeHash ?? challengeHash, externalId: "" },
    });
    return formatCredential({ challenge, payload: formatChargePermit2Payload(payload), source: `did:pkh:eip155:${suite.chain.chain.id}:${signer.address}` });
  }

  it("test_permit2_tollgateClientBuysFromTollgateGate", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [charge({ credentialTypes: ["permit2", "authorization"], decimals: 6 })]);
    const challenge = await fetchChargeChallenge(url);
    assert.deepEqual(decodeChallengeRequest(challenge.request).methodDetails, { chainId: suite.chain.chain.id, credentialTypes: ["permit2", "authorization"], decimals: 6, permit2Address: PERMIT2_ADDRESS });
    const buyer = suite.chain.account(6);
    await suite.chain.mint(buyer.address, 100n * PRICE);
    const [sellerBefore, buyerBefore] = [await suite.chain.balanceOf(suite.seller), await suite.chain.balanceOf(buyer.address)];
    // The session is refused (an escrow this client does not trust), so the client pays per request.
    const pay = createPayingFetch({ account: buyer, chain: suite.chain.chain, transport: http(suite.chain.rpcUrl), maxDeposit: PRICE, escrows: [OTHER_ESCROW], totalBudget: 5n * PRICE });
    const response = await pay(url);
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(await response.json(), { photo: "ok" });
    assert.equal(await suite.chain.balanceOf(suite.seller), sellerBefore + PRICE);
    assert.equal(await suite.chain.balanceOf(buyer.address), buyerBefore - PRICE);
    assert.equal(await allowance(buyer.address), 4n * PRICE, "approved for the total budget, not unbounded; the permit used one price of it");
    const [payment] = await store.listPayments();
    assert.equal(payment?.credential, "permit2");
    assert.equal(payment?.status, "settled");
    assert.equal(payment?.payer, buyer.address);
    assert.equal(served.count, 1);
    // The second purchase needs no approve: the buyer sends no transaction.
    const sent = await suite.chain.publicClient.getTransactionCount({ address: buyer.address });
    assert.equal((await pay(url)).status, 200);
    assert.equal(await suite.chain.publicClient.getTransactionCount({ address: buyer.address }), sent);
    assert.equal(await suite.chain.balanceOf(buyer.address), buyerBefore - 2n * PRICE);
  });

  it("test_permit2_clientNeverApprovesAPermit2AddressTheSellerNames", async () => {
    // A seller naming its own contract as Permit2 would be handed the buyer's approve: the client pays the next type instead.
    const named = suite.chain.escrow;
    const { url, store } = await startOneTimeGate(suite, [charge({ credentialTypes: ["permit2", "authorization"], permit2Address: named })]);
    const buyer = suite.chain.account(12);
    await suite.chain.mint(buyer.address, PRICE);
    const pay = createPayingFetch({ account: buyer, chain: suite.chain.chain, transport: http(suite.chain.rpcUrl), maxDeposit: PRICE, escrows: [OTHER_ESCROW] });
    assert.equal((await pay(url)).status, 200);
    assert.deepEqual((await store.listPayments()).map((payment) => payment.credential), ["authorization"]);
    assert.equal(await suite.chain.publicClient.readContract({ address: suite.chain.token, abi: erc20Abi, functionName: "allowance", args: [buyer.address, named] }), 0n);
    assert.equal(await suite.chain.publicClient.getTransactionCount({ address: buyer.address }), 0, "the buyer sent nothing");
  });

  it("test_permit2_replayedCredentialIsRefusedAndTenConcurrentCopiesAreServedOnce", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [charge({ credentialTypes: ["permit2"] })]);
    const before = await suite.chain.balanceOf(suite.seller);
    const authorization = await credential(await fetchChargeChallenge(url));
    const responses = await Promise.all(Array.from({ length: 10 }, () => fetch(url, { headers: { authorization } })));
    assert.deepEqual(responses.map((response) => response.status).sort(), [200, 402, 402, 402, 402, 402, 402, 402, 402, 402]);
    const replay = await fetch(url, { headers: { authorization } });
    assert.equal(replay.status, 402);
    assert.equal(served.count, 1);
    assert.equal(await suite.chain.balanceOf(suite.seller), before + PRICE, "one transfer");
    assert.deepEqual((await store.listPayments()).map((payment) => [payment.credential, payment.status]), [["permit2", "settled"]]);
  });

  it("test_permit2_badPermitsAre402Or400AndChangeNothing", async () => {
    const { url, store, served } = await startOneTimeGate(suite, [charge({ credentialTypes: ["permit2"] })]);
    const challenge = await fetchChargeChallenge(url);
    const other = await fetchChargeChallenge(url);
    // A used nonce: the payer spent it in Permit2 (invalidateUnorderedNonces) before presenting the permit.
    const usedNonce = 5n;
    const wallet = createWalletClient({ chain: suite.chain.chain, transport: http(suite.chain.rpcUrl), account: suite.payer.account });
    await suite.chain.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: PERMIT2_ADDRESS, abi: permit2Abi, functionName: "invalidateUnorderedNonces", args: [0n, 1n << usedNonce] }) });
    // An owner with tokens but no allowance to Permit2.
    const unapproved = suite.chain.account(7);
    await suite.chain.mint(unapproved.address, PRICE);
    const now = BigInt(Math.floor(Date.now() / 1000));
    const malformed = formatCredential({ challenge, payload: { type: "permit2", permit: { permitted: [] } }, source: `did:pkh:eip155:${suite.chain.chain.id}:${suite.payer.address}` });
    const cases: [string, string | Promise<string>, number, string | undefined][] = [
      ["witness for another challenge", credential(challenge, { challengeHash: chargeChallengeHash(other) }), 402, "challenge-mismatch"],
      ["another token", credential(challenge, { token: suite.chain.escrow }), 402, "token-mismatch"],
      ["short amount", credential(challenge, { amount: PRICE - 1n }), 402, "amount-mismatch"],
      ["another recipient", credential(challenge, { to: suite.chain.account(8).address }), 402, "recipient-mismatch"],
      ["expired deadline", credential(challenge, { deadline: now - 1n }), 402, "expired"],
      ["used nonce", credential(challenge, { nonce: usedNonce }), 402, "nonce-used"],
      ["another chain's domain", credential(challenge, { chainId: 1 }), 402, "invalid-signature"],
      ["another spender", credential(challenge, { spender: suite.chain.account(8).address }), 402, "invalid-signature"],
      ["owner without allowance", credential(challenge, { signer: unapproved }), 402, "insufficient-allowance"],
      ["malformed payload", malformed, 400, undefined],
      ["source missing", formatCredential({ challenge, payload: parseCredential(await credential(challenge)).payload as Record<string, unknown> }), 400, undefined],
    ];
    const balances = [await suite.chain.balanceOf(suite.payer.address), await suite.chain.balanceOf(unapproved.address)];
    for (const [name, header, status, reason] of cases) {
      const response = await fetch(url, { headers: { authorization: await header } });
      const body = await response.json();
      assert.equal(response.status, status, `${name}: ${JSON.stringify(body)}`);
      if (reason) assert.equal(body.reason, reason, name);
    }
    assert.equal(served.count, 0);
    assert.deepEqual(await snapshot(store), { channels: [], charges: [] });
    assert.deepEqual(await store.listPayments(), []);
    assert.deepEqual([await suite.chain.balanceOf(suite.payer.address), await suite.chain.balanceOf(unapproved.address)], balances);
    assert.equal(await nonceWord(suite.payer.address, BigInt(chargeChallengeHash(challenge))), 0n, "the challenge's nonce is still unused");
  });

  it("test_permit2_handler500TransfersNothing", async () => {
    const { url, store } = await startOneTimeGate(suite, [charge({ credentialTypes: ["permit2"] })]);
    const before = await suite.chain.balanceOf(suite.payer.address);
    const challenge = await fetchChargeChallenge(url);
    const response = await fetch(url, { headers: { authorization: await credential(challenge), "x-status": "500" } });
    assert.equal(response.status, 500);
    assert.equal(response.headers.get("payment-receipt"), null);
    assert.equal(await suite.chain.balanceOf(suite.payer.address), before);
    assert.equal(await nonceWord(suite.payer.address, BigInt(chargeChallengeHash(challenge))), 0n);
    assert.deepEqual((await store.listPayments()).map((payment) => [payment.credential, payment.status]), [["permit2", "released"]]);
  });

  it("test_permit2_settlementRevertIs402WithNoContent", async () => {
    const drained = suite.chain.account(11);
    await suite.chain.mint(drained.address, PRICE);
    await approvePermit2(drained, PRICE);
    const { url, store } = await startOneTimeGate(suite, [charge({ credentialTypes: ["permit2"] })], drained);
    const sellerBefore = await suite.chain.balanceOf(suite.seller);
    // The handler moves the payer's whole balance away before settlement: permitWitnessTransferFrom reverts.
    const response = await fetch(url, { headers: { authorization: await credential(await fetchChargeChallenge(url), { signer: drained }), "x-drain": "1" } });
    const body = await response.json();
    assert.equal(response.status, 402, JSON.stringify(body));
    assert.equal(body.reason, "settlement-failed");
    assert.equal(body.photo, undefined, "no content");
    assert.equal(response.headers.get("payment-receipt"), null);
    assert.equal(await suite.chain.balanceOf(suite.seller), sellerBefore);
    assert.deepEqual((await store.listPayments()).map((payment) => [payment.credential, payment.status]), [["permit2", "failed"]]);
  });

  it("test_permit2_recoveryResolvesPendingPermitsFromTheNonceBitmap", async () => {
    const { gate, store } = await startOneTimeGate(suite, [charge({ credentialTypes: ["permit2"] })]);
    const base = { chainId: suite.chain.chain.id, token: suite.chain.token, payer: suite.payer.address, payee: suite.seller, method: "charge" as const, credential: "permit2" as const, amount: PRICE, units: 1n, status: "pending" as const, txHash: null, createdAt: 0, updatedAt: 0 };
    const wallet = createWalletClient({ chain: suite.chain.chain, transport: http(suite.chain.rpcUrl), account: suite.payer.account });
    // Nonce 300 (word 1, bit 44) used on-chain, nonce 301 not.
    await suite.chain.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: PERMIT2_ADDRESS, abi: permit2Abi, functionName: "invalidateUnorderedNonces", args: [1n, 1n << 44n] }) });
    const hex = (nonce: bigint) => `0x${nonce.toString(16).padStart(64, "0")}` as const;
    await store.insertPayment({ ...base, nonce: hex(300n) });
    await store.insertPayment({ ...base, nonce: hex(301n) });
    const resolved = await gate.recoverPayments();
    assert.deepEqual(resolved.map((payment) => [payment.nonce, payment.status]).sort(), [[hex(300n), "settled"], [hex(301n), "released"]]);
  });

  it("test_permit2_gateOnAChainWithoutPermit2RefusesToStart", async () => {
    await uninstallPermit2(suite.chain);
    try {
      const { store } = sqliteStore();
      suite.stores.push(store);
      const gate = makeGate(suite.chain, store, { methods: [charge({ credentialTypes: ["permit2"] })] });
      await assert.rejects(gate.ready(), (error: unknown) => error instanceof ConfigurationError && /no contract at its permit2Address/.test(error.message));
    } finally {
      await installPermit2(suite.chain);
    }
  });
});
