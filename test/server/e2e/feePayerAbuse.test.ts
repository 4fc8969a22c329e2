// Issue 8, item 5: with feePayer the server pays gas for the payer's authorizations, so it submits
// only what pays for itself: relayed top-ups need the route's minimum deposit and the channel's own
// payer, a voucher riding on a deposit is verified before anything is sent, and relayed transactions
// are rate-limited per payer and channel.
import assert from "node:assert/strict";
import { type Address, type Hex, http } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import type { SessionPayload } from "../../../sdk/src/session/payload.js";
import type { SessionStore } from "../../../sdk/src/server/index.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import {
  credential,
  expectProblem,
  fetchOffer,
  makeGate,
  pay,
  Payer,
  PROBLEMS,
  randomBytes32,
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

describe("server e2e: feePayer is not a gas faucet", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let store: SessionStore;
  let server: TestServer;
  let url: string;
  /** A gate that relays at most one transaction per payer and channel a minute. */
  let limitedUrl: string;
  let seller: Address;
  let relayed: Awaited<ReturnType<typeof relayedAuthorizations>>;
  let nextAccount = 2;

  before(async function () {
    chain = await startLocalChain();
    seller = chain.account(SELLER).address;
    ({ store } = sqliteStore());
    const gate = makeGate(chain, store, { feePayer: true, transport: http(chain.rpcUrl) });
    const route = gate.session({ amount: PRICE, suggestedDeposit: DEPOSIT, minRelayedDeposit: DEPOSIT });
    const limited = makeGate(chain, store, { feePayer: true, relayRateLimit: { burst: 1, interval: 60_000 } });
    const limitedRoute = limited.session({ amount: PRICE, suggestedDeposit: DEPOSIT, minRelayedDeposit: DEPOSIT });
    server = await startServer((request) =>
      (new URL(request.url).pathname === "/limited" ? limitedRoute : route).handle(request, async (_request, payment) => Response.json({ units: payment.units.toString() })),
    );
    url = `${server.url}/relayed`;
    limitedUrl = `${server.url}/limited`;
    relayed = await relayedAuthorizations(chain, seller);
  });

  after(async function () {
    await server?.close();
    await store?.close();
    await chain?.stop();
  });

  const nonceOf = (address: Address) => chain.publicClient.getTransactionCount({ address });
  const depositOf = async (channelId: Hex) => (await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId }))?.deposit;
  const openPayload = (payer: Payer, salt: Hex) => relayed.openPayload(payer, salt, { deposit: DEPOSIT, cumulativeAmount: PRICE });

  async function newPayer() {
    const payer = new Payer(chain, chain.account(nextAccount++));
    await chain.mint(payer.address, 1_000_000n);
    return payer;
  }

  /**
   * Sends a relayed top-up by `signer` of `additionalDeposit` to the channel, as a topUp credential and
   * as the deposit extension of the payer's next voucher, and asserts both are refused with nothing sent.
   */
  async function expectTopUpsRefused(payer: Payer, signer: Payer, channelId: Hex, additionalDeposit: bigint) {
    const offer = await fetchOffer(url);
    const sellerNonce = await nonceOf(seller);
    const before = await snapshot(store);
    const topUp = await relayed.topUp(signer, channelId, additionalDeposit);
    const response = await pay(url, credential(offer.challenge, { action: "topUp", type: "authorization", channelId, ...topUp, additionalDeposit }), { method: "HEAD" });
    await expectProblem(response, 402, `${PROBLEMS}verification-failed`, { head: true });
    const extension = await relayed.topUp(signer, channelId, additionalDeposit);
    const merged = { ...(await payer.voucher(channelId, PRICE)), deposit: { action: "topUp", type: "authorization", ...extension } } as SessionPayload;
    await expectProblem(await pay(url, credential(offer.challenge, merged)), 402, `${PROBLEMS}verification-failed`);
    assert.equal(await nonceOf(seller), sellerNonce, "the server paid gas for a top-up it should refuse");
    assert.equal(await depositOf(channelId), DEPOSIT);
    assert.deepEqual(await snapshot(store), before);
  }

  /** Opens a relayed channel through `target` with a first voucher for one unit. */
  async function open(payer: Payer, target = url): Promise<Hex> {
    const offer = await fetchOffer(target);
    const salt = randomBytes32();
    const response = await pay(target, credential(offer.challenge, await openPayload(payer, salt)));
    assert.equal(response.status, 200, await response.text());
    return payer.channelIdFor(seller, salt);
  }

  it("test_feePayerAbuse_relayedTopUpBelowTheMinimumDepositSendsNothing", async function () {
    const payer = await newPayer();
    await expectTopUpsRefused(payer, payer, await open(payer), 1n);
  });

  it("test_feePayerAbuse_topUpAuthorizationFromAnotherPayerSendsNothing", async function () {
    // The stranger's own valid authorization, naming the payer's channel: the server would pay its gas.
    const payer = await newPayer();
    await expectTopUpsRefused(payer, await newPayer(), await open(payer), DEPOSIT);
  });

  it("test_feePayerAbuse_depositExtensionWithABadVoucherSendsNothing", async function () {
    const payer = await newPayer();
    const stranger = await newPayer();
    const channelId = await open(payer);
    const offer = await fetchOffer(url);
    const sellerNonce = await nonceOf(seller);
    const before = await snapshot(store);

    // A valid top-up by the payer carrying a voucher the stranger signed.
    const extension = await relayed.topUp(payer, channelId, DEPOSIT);
    const forged = { action: "voucher", channelId, cumulativeAmount: 2n * PRICE, signature: await stranger.sign(channelId, 2n * PRICE), deposit: { action: "topUp", type: "authorization", ...extension } } as SessionPayload;
    await expectProblem(await pay(url, credential(offer.challenge, forged)), 402, `${SESSION_PROBLEMS}signer-mismatch`);
    // A voucher beyond the deposit plus what the top-up adds.
    const beyond = { ...(await payer.voucher(channelId, 2n * DEPOSIT + 1n)), deposit: { action: "topUp", type: "authorization", ...extension } } as SessionPayload;
    await expectProblem(await pay(url, credential(offer.challenge, beyond)), 402, `${SESSION_PROBLEMS}amount-exceeds-deposit`);
    // An open extension whose voucher is the stranger's.
    const salt = randomBytes32();
    const newChannel = payer.channelIdFor(seller, salt);
    const { authorization, signature } = await relayed.open(payer, salt, DEPOSIT);
    const forgedOpen = {
      action: "voucher",
      channelId: newChannel,
      cumulativeAmount: PRICE,
      signature: await stranger.sign(newChannel, PRICE),
      deposit: { action: "open", type: "authorization", authorization, signature, salt },
    } as SessionPayload;
    await expectProblem(await pay(url, credential(offer.challenge, forgedOpen)), 402, `${SESSION_PROBLEMS}signer-mismatch`);

    assert.equal(await nonceOf(seller), sellerNonce, "the server submitted a deposit whose voucher is bad");
    assert.equal(await depositOf(channelId), DEPOSIT);
    assert.equal(await depositOf(newChannel), undefined);
    assert.deepEqual(await snapshot(store), before);
  });

  it("test_feePayerAbuse_relayedOpenWithABadVoucherSendsNothing", async function () {
    const payer = await newPayer();
    const stranger = await newPayer();
    const offer = await fetchOffer(url);
    const sellerNonce = await nonceOf(seller);
    const before = await snapshot(store);
    const salt = randomBytes32();
    const channelId = payer.channelIdFor(seller, salt);
    const open = (await openPayload(payer, salt)) as Extract<SessionPayload, { action: "open"; type: "authorization" }>;
    // The open's voucher signed by a stranger, then one for more than the deposit the open makes.
    await expectProblem(await pay(url, credential(offer.challenge, { ...open, voucherSignature: await stranger.sign(channelId, PRICE) })), 402, `${SESSION_PROBLEMS}signer-mismatch`);
    const beyond = { ...open, cumulativeAmount: DEPOSIT + 1n, voucherSignature: await payer.sign(channelId, DEPOSIT + 1n) };
    await expectProblem(await pay(url, credential(offer.challenge, beyond)), 402, `${SESSION_PROBLEMS}amount-exceeds-deposit`);
    assert.equal(await nonceOf(seller), sellerNonce, "the server opened a channel whose voucher is bad");
    assert.equal(await depositOf(channelId), undefined);
    assert.deepEqual(await snapshot(store), before);
  });

  it("test_feePayerAbuse_relayedTransactionsAreRateLimitedPerPayer", async function () {
    const payer = await newPayer();
    const channelId = await open(payer, limitedUrl);
    const offer = await fetchOffer(limitedUrl);
    const sellerNonce = await nonceOf(seller);

    // The payer's second relayed transaction within the interval: a top-up of its channel, then an open.
    const topUp = await relayed.topUp(payer, channelId, DEPOSIT);
    const limitedTopUp = await pay(limitedUrl, credential(offer.challenge, { action: "topUp", type: "authorization", channelId, ...topUp, additionalDeposit: DEPOSIT }), { method: "POST" });
    const problem = await expectProblem(limitedTopUp, 429, "about:blank");
    assert.match(String(problem.detail), /relayed/);
    assert.ok(Number(limitedTopUp.headers.get("retry-after")) > 0, "a 429 carries Retry-After");
    const limitedOpen = await pay(limitedUrl, credential(offer.challenge, await openPayload(payer, randomBytes32())), { method: "POST" });
    await expectProblem(limitedOpen, 429, "about:blank");
    assert.equal(await nonceOf(seller), sellerNonce, "a rate-limited relay was submitted");
    assert.equal(await depositOf(channelId), DEPOSIT);

    // Another payer is not held back, and plain vouchers on the limited channel are served.
    await open(await newPayer(), limitedUrl);
    const voucher = await pay(limitedUrl, credential(offer.challenge, await payer.voucher(channelId, 2n * PRICE)));
    assert.equal(voucher.status, 200, await voucher.text());
  });
});
