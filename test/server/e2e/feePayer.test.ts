// Issue 4, item 2: feePayer: true. The server submits openWithAuthorization / topUpWithAuthorization
// (the open and topUp actions of type authorization, and a voucher's `deposit` extension) and pays
// their gas; the payer sends no transaction at all.
import assert from "node:assert/strict";
import { type Address, type Hex, http, type Transport } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import type { SessionPayload } from "../../../sdk/src/session/payload.js";
import type { PaymentGate, SessionRoute, SessionStore } from "../../../sdk/src/server/index.js";
import { openChannelWithAuthorization } from "../../../sdk/src/transactions/openChannelWithAuthorization.js";
import { freePort, startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import {
  credential,
  expectProblem,
  fetchOffer,
  makeGate,
  type Offer,
  pay,
  Payer,
  PROBLEMS,
  randomBytes32,
  receiptOf,
  relayedAuthorizations,
  SELLER,
  SESSION_PROBLEMS,
  snapshot,
  sqliteStore,
  startServer,
  type TestServer,
} from "./helpers.js";

const PRICE = 10_000n;
const DEPOSIT = 30_000n;

describe("server e2e: feePayer — the server submits the payer's authorizations", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let store: SessionStore;
  let gate: PaymentGate;
  let server: TestServer;
  let url: string;
  let seller: Address;
  let relayed: Awaited<ReturnType<typeof relayedAuthorizations>>;
  /** Methods the gate's RPC sends to a closed port instead of the node. */
  const failing = new Set<string>();

  before(async function () {
    chain = await startLocalChain();
    seller = chain.account(SELLER).address;
    ({ store } = sqliteStore());
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    gate = makeGate(chain, store, { feePayer: true, transport: switchable(chain.rpcUrl, deadUrl, failing) });
    const route: SessionRoute = gate.session({ amount: PRICE, suggestedDeposit: DEPOSIT, minRelayedDeposit: DEPOSIT });
    server = await startServer((request) => route.handle(request, async (_request, payment) => Response.json({ units: payment.units.toString() })));
    url = `${server.url}/relayed`;
    relayed = await relayedAuthorizations(chain, seller);
  });

  after(async function () {
    await server?.close();
    await store?.close();
    await chain?.stop();
  });

  const nonceOf = (address: Address) => chain.publicClient.getTransactionCount({ address });
  const ethOf = (address: Address) => chain.publicClient.getBalance({ address });
  const openAuthorization = (payer: Payer, salt: Hex, deposit = DEPOSIT) => relayed.open(payer, salt, deposit);
  const topUpAuthorization = (payer: Payer, channelId: Hex, additionalDeposit: bigint) => relayed.topUp(payer, channelId, additionalDeposit);
  const openPayload = (payer: Payer, salt: Hex, { deposit = DEPOSIT, cumulativeAmount = PRICE, channelId }: { deposit?: bigint; cumulativeAmount?: bigint; channelId?: Hex } = {}) =>
    relayed.openPayload(payer, salt, { deposit, cumulativeAmount, ...(channelId === undefined ? {} : { channelId }) });

  async function newPayer(index: number) {
    const payer = new Payer(chain, chain.account(index));
    await chain.mint(payer.address, 1_000_000n);
    return payer;
  }

  it("test_feePayer_openTopUpAndDepositExtensionAreSubmittedAndPaidForByTheServer", async function () {
    const payer = await newPayer(2);
    const offer: Offer = await fetchOffer(url);
    assert.equal(offer.request.methodDetails.feePayer, true);
    assert.deepEqual(offer.request.methodDetails.credentialTypes, ["authorization", "hash"]);
    const payerEth = await ethOf(payer.address);
    const payerNonce = await nonceOf(payer.address);
    const sellerEth = await ethOf(seller);
    const payerTokens = await chain.balanceOf(payer.address);
    const sellerTokens = await chain.balanceOf(seller);

    // open (type authorization): the server calls openWithAuthorization.
    const salt = randomBytes32();
    const channelId = payer.channelIdFor(seller, salt);
    const opened = await pay(url, credential(offer.challenge, await openPayload(payer, salt)));
    assert.equal(opened.status, 200, await opened.clone().text());
    assert.deepEqual([receiptOf(opened).acceptedCumulative, receiptOf(opened).spent], ["10000", "10000"]);
    let onChain = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId });
    assert.equal(onChain?.deposit, DEPOSIT);
    assert.equal(onChain?.payer, payer.address);
    assert.equal(await chain.balanceOf(payer.address), payerTokens - DEPOSIT);

    // The same open credential again (HEAD: nothing to charge): no second transaction, same channel.
    const sellerNonce = await nonceOf(seller);
    const again = await pay(url, credential(offer.challenge, await openPayload(payer, salt)), { method: "HEAD" });
    assert.ok(again.ok, `${again.status}`);
    assert.equal(receiptOf(again).spent, "10000");
    assert.equal(await nonceOf(seller), sellerNonce);

    // Vouchers up to the deposit, then one beyond it carrying a topUp authorization (deposit extension).
    for (const amount of [2n * PRICE, 3n * PRICE]) {
      const voucher = await pay(url, credential(offer.challenge, await payer.voucher(channelId, amount)));
      assert.equal(voucher.status, 200, await voucher.clone().text());
    }
    const extension = await topUpAuthorization(payer, channelId, DEPOSIT);
    const merged: SessionPayload = { ...(await payer.voucher(channelId, 4n * PRICE)), deposit: { action: "topUp", type: "authorization", ...extension } } as SessionPayload;
    const toppedUp = await pay(url, credential(offer.challenge, merged));
    assert.equal(toppedUp.status, 200, await toppedUp.clone().text());
    assert.deepEqual([receiptOf(toppedUp).acceptedCumulative, receiptOf(toppedUp).spent], ["40000", "40000"]);
    onChain = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId });
    assert.equal(onChain?.deposit, 2n * DEPOSIT);

    // topUp (type authorization) on its own, over HEAD.
    const topUp = await topUpAuthorization(payer, channelId, DEPOSIT);
    const head = await pay(url, credential(offer.challenge, { action: "topUp", type: "authorization", channelId, ...topUp, additionalDeposit: DEPOSIT }), { method: "HEAD" });
    assert.equal(head.status, 204);
    receiptOf(head);
    const stored = (await store.getChannel(channelId))!;
    assert.deepEqual(
      [stored.deposit, stored.acceptedCumulative, stored.spent, stored.reserved, stored.units],
      [3n * DEPOSIT, 4n * PRICE, 4n * PRICE, 0n, 4n],
    );

    const last = await pay(url, credential(offer.challenge, await payer.voucher(channelId, 5n * PRICE)));
    assert.equal(last.status, 200, await last.clone().text());
    const close = await pay(url, credential(offer.challenge, { action: "close", channelId, cumulativeAmount: 5n * PRICE, signature: await payer.sign(channelId, 5n * PRICE) }), { method: "POST" });
    assert.equal(close.status, 200, await close.clone().text());

    // The payer sent nothing and paid no gas; the seller paid the gas and got exactly what was spent.
    assert.equal(await ethOf(payer.address), payerEth);
    assert.equal(await nonceOf(payer.address), payerNonce);
    assert.ok((await ethOf(seller)) < sellerEth, "the seller pays the gas");
    assert.equal(await chain.balanceOf(seller), sellerTokens + 5n * PRICE);
    assert.equal(await chain.balanceOf(payer.address), payerTokens - 5n * PRICE);
    assert.equal((await store.getChannel(channelId))!.settledOnChain, 5n * PRICE);
  });

  it("test_feePayer_voucherWithADepositExtensionThatOpensTheChannel", async function () {
    // Reproduces a gate bug: the channel was looked up before the extension opened it (always 410).
    const payer = await newPayer(3);
    const offer = await fetchOffer(url);
    const salt = randomBytes32();
    const channelId = payer.channelIdFor(seller, salt);
    const { authorization, signature } = await openAuthorization(payer, salt);
    const payload = { ...(await payer.voucher(channelId, PRICE)), deposit: { action: "open", type: "authorization", authorization, signature, salt } } as SessionPayload;
    const response = await pay(url, credential(offer.challenge, payload));
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual([receiptOf(response).acceptedCumulative, receiptOf(response).spent], ["10000", "10000"]);
    assert.equal((await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId }))?.deposit, DEPOSIT);
    assert.equal((await store.getChannel(channelId))!.deposit, DEPOSIT);
  });

  it("test_feePayer_badOpenAuthorizationsSendNoTransactionAndStoreNothing", async function () {
    const payer = await newPayer(4);
    const offer = await fetchOffer(url);
    const sellerNonce = await nonceOf(seller);
    const before = await snapshot(store);

    // A deposit below the route's minimum for relayed opens (which cost the server gas).
    const small = randomBytes32();
    await expectProblem(await pay(url, credential(offer.challenge, await openPayload(payer, small, { deposit: DEPOSIT - 1n }))), 402, `${PROBLEMS}verification-failed`);
    // A channelId that is not the one these parameters create (reproduces a gate bug: the server sent
    // the transaction, then answered 410 for the channel it had not opened).
    await expectProblem(
      await pay(url, credential(offer.challenge, await openPayload(payer, randomBytes32(), { channelId: randomBytes32() }))),
      400,
      `${PROBLEMS}malformed-credential`,
    );
    // An authorization to pay someone other than the escrow.
    const salt = randomBytes32();
    const wrongTo = (await openPayload(payer, salt)) as Extract<SessionPayload, { type: "authorization"; action: "open" }>;
    await expectProblem(
      await pay(url, credential(offer.challenge, { ...wrongTo, authorization: { ...wrongTo.authorization, to: seller } })),
      400,
      `${PROBLEMS}malformed-credential`,
    );
    // An authorization signed by someone else: the escrow's simulation reverts, nothing is sent.
    const stranger = new Payer(chain, chain.account(5));
    const forged = (await openPayload(payer, salt)) as Extract<SessionPayload, { type: "authorization"; action: "open" }>;
    const { signature: strangers } = await openAuthorization(stranger, salt);
    await expectProblem(await pay(url, credential(offer.challenge, { ...forged, signature: strangers })), 409, `${SESSION_PROBLEMS}transaction-reverted`);

    assert.equal(await nonceOf(seller), sellerNonce, "the server sent a transaction for a bad credential");
    assert.deepEqual(await snapshot(store), before);
  });

  it("test_feePayer_openAlreadyMinedIsNotSubmittedAgain", async function () {
    // The server crashed after its openWithAuthorization was mined and before it stored the channel:
    // the client sends the same credential again and the gate takes the channel from the chain.
    const payer = await newPayer(6);
    const offer = await fetchOffer(url);
    const salt = randomBytes32();
    const payload = (await openPayload(payer, salt)) as Extract<SessionPayload, { type: "authorization"; action: "open" }>;
    await openChannelWithAuthorization({
      client: gate.chain.walletClient,
      publicClient: chain.publicClient,
      escrow: chain.escrow,
      payee: seller,
      token: chain.token,
      salt,
      authorization: { ...payload.authorization, signature: payload.signature },
    });
    const sellerNonce = await nonceOf(seller);
    const response = await pay(url, credential(offer.challenge, payload));
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(await nonceOf(seller), sellerNonce);
    assert.equal((await store.getChannel(payload.channelId))!.spent, PRICE);
  });

  it("test_feePayer_transactionThatCannotBeSentIs503AndTheSameCredentialWorksLater", async function () {
    // Reproduces a gate bug: a TransactionSubmissionError was answered 400 malformed-credential.
    const payer = await newPayer(7);
    const offer = await fetchOffer(url);
    const salt = randomBytes32();
    const authorization = credential(offer.challenge, await openPayload(payer, salt));
    const before = await snapshot(store);
    failing.add("eth_sendRawTransaction");
    try {
      const response = await pay(url, authorization);
      await expectProblem(response, 503, "about:blank");
      assert.ok(Number(response.headers.get("retry-after")) > 0);
    } finally {
      failing.clear();
    }
    assert.deepEqual(await snapshot(store), before);
    const retried = await pay(url, authorization);
    assert.equal(retried.status, 200, await retried.clone().text());
    assert.equal((await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId: payer.channelIdFor(seller, salt) }))?.deposit, DEPOSIT);
  });
});

/** An HTTP transport that sends the methods in `failing` to a closed port (a node that went away). */
function switchable(url: string, deadUrl: string, failing: Set<string>): Transport {
  return (parameters) => {
    const live = http(url)(parameters);
    const dead = http(deadUrl, { retryCount: 0 })({ ...parameters, retryCount: 0 });
    const request = ((args: { method: string }, options?: unknown) =>
      (failing.has(args.method) ? dead : live).request(args as never, options as never)) as typeof live.request;
    return { ...live, request };
  };
}
