// Issue 8, item 6: a request that pays nothing costs the seller almost nothing. A fake open hash is
// checked against its `source` before the chain is asked anything, a transaction not yet mined is a
// 402 with Retry-After (not a held connection), and its RPC calls are counted; a stream on a route
// whose request costs zero units does not start on a channel that cannot pay for one unit.
import assert from "node:assert/strict";
import { type Address, erc20Abi, type Hex } from "viem";
import { tollgateEscrowAbi } from "../../../sdk/src/generated/tollgateEscrowAbi.js";
import { meteredEventStream, type SessionStore } from "../../../sdk/src/server/index.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import {
  countingTransport,
  credential,
  expectProblem,
  fetchOffer,
  makeGate,
  pay,
  Payer,
  PROBLEMS,
  randomBytes32,
  receiptOf,
  SELLER,
  SESSION_PROBLEMS,
  snapshot,
  sqliteStore,
  startServer,
  type TestServer,
} from "./helpers.js";

const PRICE = 1_000n;
const DEPOSIT = 100_000n;
/** RPC calls a fake open hash may cost at most (a receipt lookup bounded by `receiptTimeout`). */
const MAX_CALLS_PER_FAKE_OPEN = 4;

describe("server e2e: unpaid requests cost the seller almost nothing", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let store: SessionStore;
  let server: TestServer;
  let url: string;
  let streamUrl: string;
  let seller: Address;
  let calls: string[];
  let handlerRuns = 0;

  before(async function () {
    chain = await startLocalChain();
    seller = chain.account(SELLER).address;
    ({ store } = sqliteStore());
    const counted = countingTransport(chain.rpcUrl);
    calls = counted.calls;
    const gate = makeGate(chain, store, { transport: counted.transport, receiptTimeout: 500 });
    const route = gate.session({ amount: PRICE, suggestedDeposit: DEPOSIT });
    // The stream meters its own units: the request itself costs nothing.
    const stream = gate.session({ amount: PRICE, units: () => 0n, suggestedDeposit: DEPOSIT });
    server = await startServer((request) =>
      new URL(request.url).pathname === "/stream"
        ? stream.handle(request, async (incoming, payment) => {
            handlerRuns++;
            return meteredEventStream({
              gate,
              payment: payment.method === "session" ? payment : assert.fail("a metered stream is paid from a session"),
              price: PRICE,
              signal: incoming.signal,
              voucherTimeout: 200,
              pollInterval: 20,
              source: (async function* () {
                yield "a";
                yield "b";
              })(),
            });
          })
        : route.handle(request, async () => {
            handlerRuns++;
            return Response.json({ served: true });
          }),
    );
    url = `${server.url}/paid`;
    streamUrl = `${server.url}/stream`;
  });

  after(async function () {
    await server?.close();
    await store?.close();
    await chain?.stop();
  });

  async function newPayer(index: number) {
    const payer = new Payer(chain, chain.account(index));
    await chain.mint(payer.address, 1_000_000n);
    return payer;
  }

  /** Sends `authorization` and returns the response with the RPC methods the gate called for it. */
  async function counted(target: string, authorization: string, init: RequestInit = {}) {
    const from = calls.length;
    const response = await pay(target, authorization, init);
    const text = await response.clone().text();
    return { response, text, rpc: calls.slice(from) };
  }

  it("test_unpaidCost_fakeOpenHashWithAForeignVoucherOrChannelIsRefusedWithoutAskingTheChain", async function () {
    const payer = await newPayer(2);
    const stranger = await newPayer(3);
    const offer = await fetchOffer(url);
    const before = await snapshot(store);
    const salt = randomBytes32();
    const channelId = payer.channelIdFor(seller, salt);

    // The voucher is signed by someone else than the payer `source` names.
    const foreign = { action: "open", type: "hash", channelId, hash: randomBytes32(), cumulativeAmount: PRICE, signature: await stranger.sign(channelId, PRICE), salt } as const;
    const mismatch = await counted(url, credential(offer.challenge, foreign, payer.source));
    await expectProblem(mismatch.response, 402, `${SESSION_PROBLEMS}signer-mismatch`);
    // Only the signer's code may be read (a smart-wallet payer signs with ERC-1271), never a receipt.
    assert.ok(mismatch.rpc.every((method) => method === "eth_getCode"), mismatch.rpc.join());
    assert.ok(mismatch.rpc.length <= 1, mismatch.rpc.join());

    // A channel id that is not the one the source, this seller, the salt and the signer make.
    const otherChannel = { action: "open", type: "hash", channelId: randomBytes32(), hash: randomBytes32(), cumulativeAmount: PRICE, signature: await payer.sign(channelId, PRICE), salt } as const;
    const wrongId = await counted(url, credential(offer.challenge, otherChannel, payer.source));
    await expectProblem(wrongId.response, 402, `${PROBLEMS}verification-failed`);
    assert.deepEqual(wrongId.rpc, []);
    // The voucher names the source's channel, but the source is the stranger's.
    const wrongSource = await counted(url, credential(offer.challenge, { ...otherChannel, channelId }, stranger.source));
    await expectProblem(wrongSource.response, 402, `${PROBLEMS}verification-failed`);
    assert.deepEqual(wrongSource.rpc, []);

    assert.equal(handlerRuns, 0);
    assert.deepEqual(await snapshot(store), before);
  });

  it("test_unpaidCost_openHashNotMinedIs402WithRetryAfterAndABoundedNumberOfRpcCalls", async function () {
    const payer = await newPayer(4);
    const offer = await fetchOffer(url);
    const before = await snapshot(store);

    // A correctly signed open whose hash no node knows: a receipt lookup bounded by receiptTimeout, then a 402.
    for (let i = 0; i < 3; i++) {
      const salt = randomBytes32();
      const channelId = payer.channelIdFor(seller, salt);
      const fake = { action: "open", type: "hash", channelId, hash: randomBytes32(), cumulativeAmount: PRICE, signature: await payer.sign(channelId, PRICE), salt } as const;
      const { response, text, rpc } = await counted(url, credential(offer.challenge, fake, payer.source));
      await expectProblem(response, 402, `${PROBLEMS}verification-failed`);
      assert.match(text, /not mined/);
      assert.ok(Number(response.headers.get("retry-after")) > 0, "a pending transaction is answered with Retry-After");
      assert.ok(rpc.length <= MAX_CALLS_PER_FAKE_OPEN, `a fake open hash cost ${rpc.length} RPC calls: ${rpc.join()}`);
    }
    assert.equal(handlerRuns, 0);
    assert.deepEqual(await snapshot(store), before);

    // A real open still in the mempool: 402 with Retry-After; once mined, the same credential opens the channel.
    const salt = randomBytes32();
    const channelId = payer.channelIdFor(seller, salt);
    await chain.publicClient.waitForTransactionReceipt({
      hash: await payer.wallet.writeContract({ address: chain.token, abi: erc20Abi, functionName: "approve", args: [chain.escrow, DEPOSIT] }),
    });
    await chain.publicClient.request({ method: "evm_setAutomine" as never, params: [false] as never });
    let hash: Hex;
    try {
      hash = await payer.wallet.writeContract({ address: chain.escrow, abi: tollgateEscrowAbi, functionName: "open", args: [seller, chain.token, DEPOSIT, salt, "0x0000000000000000000000000000000000000000"] });
      const payload = { action: "open", type: "hash", channelId, hash, cumulativeAmount: PRICE, signature: await payer.sign(channelId, PRICE), salt } as const;
      const pending = await counted(url, credential(offer.challenge, payload, payer.source));
      await expectProblem(pending.response, 402, `${PROBLEMS}verification-failed`);
      assert.ok(Number(pending.response.headers.get("retry-after")) > 0);
      assert.ok(pending.rpc.length <= MAX_CALLS_PER_FAKE_OPEN, pending.rpc.join());
      await chain.publicClient.request({ method: "evm_mine" as never, params: [] as never });
      const mined = await pay(url, credential(offer.challenge, payload, payer.source));
      assert.equal(mined.status, 200, await mined.clone().text());
      assert.equal(receiptOf(mined).spent, PRICE.toString());
    } finally {
      await chain.publicClient.request({ method: "evm_setAutomine" as never, params: [true] as never });
    }
    assert.equal(handlerRuns, 1);
  });

  it("test_unpaidCost_zeroUnitStreamDoesNotStartOnAnEmptyChannel", async function () {
    const payer = await newPayer(5);
    const offer = await fetchOffer(streamUrl);
    const opened = await payer.openOnChain(seller, DEPOSIT);
    const runs = handlerRuns;

    // The open carries a voucher for nothing: accepted (HEAD only updates credentials), but no stream starts on it.
    const head = await pay(streamUrl, credential(offer.challenge, await payer.openPayload(opened, 0n), payer.source), { method: "HEAD" });
    assert.equal(head.status, 204);
    const empty = await pay(streamUrl, credential(offer.challenge, await payer.voucher(opened.channelId, 0n)));
    const problem = await expectProblem(empty, 402, `${SESSION_PROBLEMS}insufficient-balance`);
    assert.equal(problem.requiredCumulative, PRICE.toString());
    assert.equal(handlerRuns, runs, "the handler ran on a channel that cannot pay for one unit");
    assert.equal((await store.getChannel(opened.channelId))!.spent, 0n);

    // One unit covered: the stream starts (and asks for more as it goes).
    const paid = await pay(streamUrl, credential(offer.challenge, await payer.voucher(opened.channelId, PRICE)));
    assert.equal(paid.status, 200, await paid.clone().text());
    assert.equal(paid.headers.get("content-type"), "text/event-stream");
    await paid.text();
    assert.equal(handlerRuns, runs + 1);
  });
});
