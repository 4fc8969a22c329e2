// Session keys under pressure: a wallet that refuses the funding leaves no open channel behind, a key
// lost from the store stops its channel with a typed error that a close still ends cleanly, and a seller
// that names another escrow never gets a voucher from an existing channel's key.
import assert from "node:assert/strict";
import { type Address, custom, getAddress, type EIP1193RequestFn, type Hex, keccak256, recoverTypedDataAddress, toHex, UserRejectedRequestError } from "viem";
import { createMemoryChannelStore, SessionKeyMissingError } from "../../../sdk/src/client/index.js";
import { TransactionSubmissionError } from "../../../sdk/src/errors/TransactionSubmissionError.js";
import { decodeChallengeRequest, encodeChallengeRequest, formatChallenge } from "../../../sdk/src/protocol/challenge.js";
import { parseCredential } from "../../../sdk/src/protocol/credential.js";
import { getVoucherTypedData } from "../../../sdk/src/voucher/getVoucherTypedData.js";
import { buyer, clientSuite, credentialAction, PRICE, type Seller, transactionsSince, USDC } from "./fixture.js";
import { jsonRpcWallet } from "./wallets.js";

describe("client e2e: session keys, refused funding and lost keys", function () {
  this.timeout(120_000);
  const suite = clientSuite();
  let shop: Seller;
  let relayedShop: Seller;
  let nextWallet = 16;

  before(async function () {
    shop = await suite.seller();
    relayedShop = await suite.seller({ gate: { feePayer: true } });
  });

  /** A funded JSON-RPC wallet whose user refuses `refused` requests (EIP-1193 error 4001). */
  async function refusingWallet(refused: string) {
    const wallet = jsonRpcWallet(suite.chain, nextWallet++);
    await suite.chain.mint(wallet.address, 100n * USDC);
    const request = (async (args: { method: string }) => {
      if (args.method === refused) throw Object.assign(new Error("User rejected the request."), { code: 4001 });
      return wallet.request(args as never);
    }) as EIP1193RequestFn;
    return { address: wallet.address, transport: custom({ request }) };
  }

  for (const [name, refused, url] of [
    ["ASignature", "eth_signTypedData_v4", () => relayedShop.url],
    ["ATransaction", "eth_sendTransaction", () => shop.url],
  ] as const) {
    it(`test_sessionKeys_aWalletRefusing${name}LeavesNoOpenChannel`, async function () {
      const wallet = await refusingWallet(refused);
      const pay = buyer(suite.chain, { type: "json-rpc", address: wallet.address }, { transport: wallet.transport });
      await assert.rejects(pay(url()), (error: unknown) => {
        const cause = error instanceof TransactionSubmissionError ? error.cause : error;
        assert.ok(cause instanceof UserRejectedRequestError || (cause as { walk?: (f: (e: unknown) => boolean) => unknown }).walk?.((e) => e instanceof UserRejectedRequestError), String(error));
        return true;
      });
      assert.deepEqual((await pay.channels()).map((channel) => channel.status), ["closed"]);
    });
  }

  it("test_sessionKeys_aLostKeyIsATypedErrorAndTheChannelStillClosesCleanly", async function () {
    const account = await suite.freshBuyer();
    const store = createMemoryChannelStore();
    const pay = buyer(suite.chain, account, { store });
    assert.equal((await pay(shop.url)).status, 200);
    const [channel] = await store.list();
    const { sessionKey: _lost, ...withoutKey } = channel!;
    await store.put(withoutKey);
    await assert.rejects(pay(shop.url), (error: unknown) => error instanceof SessionKeyMissingError && error.channelId === channel!.channelId);
    // The last voucher covers what was delivered, so the close needs no new signature.
    const closed = await pay.close({ url: shop.url });
    assert.equal(closed.settled, PRICE);
    assert.equal(closed.refund, channel!.deposit - PRICE);
  });

  it("test_sessionKeys_aChallengeNamingAnotherEscrowGetsNoVoucherFromTheChannelsKey", async function () {
    const otherEscrow = getAddress(`0x${keccak256(toHex("another escrow")).slice(26)}`);
    const sent: { channelId: Hex; cumulativeAmount: bigint; signature: Hex; escrow: Address }[] = [];
    let rewrite = false;
    const liar = await suite.hostile(shop, async (request, answer) => {
      const authorization = request.headers.get("authorization");
      if (authorization !== null) {
        const { challenge, payload } = parseCredential(authorization);
        const signature = (payload.voucherSignature ?? payload.signature) as Hex;
        const escrow = (decodeChallengeRequest(challenge.request).methodDetails as { escrowContract: Address }).escrowContract;
        sent.push({ channelId: payload.channelId as Hex, cumulativeAmount: BigInt(String(payload.cumulativeAmount)), signature, escrow });
      }
      if (!rewrite || credentialAction(request) === undefined) return answer();
      // The seller now claims its channels live in another escrow.
      const challenge = shop.route.challenge();
      const fields = decodeChallengeRequest(challenge.request);
      const request_ = encodeChallengeRequest({ ...fields, methodDetails: { ...(fields.methodDetails as object), escrowContract: otherEscrow } });
      return new Response(JSON.stringify({ type: "https://paymentauth.org/problems/session/challenge-not-found", status: 402 }), {
        status: 402,
        headers: { "content-type": "application/problem+json", "www-authenticate": formatChallenge({ ...challenge, request: request_ }) },
      });
    });
    const account = await suite.freshBuyer();
    const pay = buyer(suite.chain, account, { escrows: [suite.chain.escrow, otherEscrow] });
    assert.equal((await pay(liar.url)).status, 200);
    const [first] = await pay.channels();
    rewrite = true;
    const fromBlock = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    // Nothing is deployed at the other escrow: the client refuses to open there before signing or sending anything.
    await assert.rejects(pay(liar.url), (error: Error) => error.name === "DeploymentNotFoundError");
    const after = await pay.channels();
    assert.deepEqual(after.map((channel) => channel.channelId), [first!.channelId], "no channel under the other escrow");
    assert.equal(after[0]!.cumulativeAmount <= 2n * PRICE, true);
    for (const credential of sent) {
      const signer = await recoverTypedDataAddress({ ...getVoucherTypedData({ chainId: suite.chain.chain.id, escrow: suite.chain.escrow, channelId: credential.channelId, cumulativeAmount: credential.cumulativeAmount }), signature: credential.signature });
      if (signer === first!.authorizedSigner) assert.equal(credential.channelId, first!.channelId, "the first key signs its own channel only");
      assert.notEqual(credential.escrow === otherEscrow && signer === first!.authorizedSigner, true, "no voucher of the first key under another escrow");
    }
    assert.equal(await transactionsSince(suite.chain, fromBlock), 0, "no transaction toward the other escrow");
  });
});
