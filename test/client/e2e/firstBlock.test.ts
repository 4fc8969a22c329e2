// The first paid response within one block, on anvil with Base's 2-second blocks: a buyer paying its own
// gas sends approve and open back to back, so both are mined in the block after it sends them, and the
// gate and the client poll for receipts at their `pollingInterval`. Asserted on block numbers, not time.
import assert from "node:assert/strict";
import { createWalletClient, custom, type EIP1193RequestFn, erc20Abi, type Hex, http, type Transport } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { ApprovalFailedError } from "../../../sdk/src/client/index.js";
import { TransactionSubmissionError } from "../../../sdk/src/errors/TransactionSubmissionError.js";
import type { LocalChain } from "../../../scripts/localChain.js";
import { compilePlainToken } from "../../../scripts/gas/plainToken.js";
import { buyer, clientSuite, PRICE, recordingFetch, type Seller, USDC } from "./fixture.js";
import { contractWallet, jsonRpcWallet } from "./wallets.js";

type Request = { method: string; params?: unknown };
type Sent = { method: string; head: bigint };
const SENDS = new Set(["eth_sendRawTransaction", "eth_sendTransaction"]);

/** Forwards requests to `forward`, noting the chain's head as each transaction is sent and counting every method. */
function watching(chain: LocalChain, forward: (request: Request) => Promise<unknown>) {
  const sent: Sent[] = [];
  const calls = new Map<string, number>();
  const request = async (args: Request) => {
    calls.set(args.method, (calls.get(args.method) ?? 0) + 1);
    if (SENDS.has(args.method)) sent.push({ method: args.method, head: await chain.publicClient.getBlockNumber({ cacheTime: 0 }) });
    return forward(args);
  };
  return { sent, calls, request: request as EIP1193RequestFn };
}

function watchingTransport(chain: LocalChain) {
  const node = http(chain.rpcUrl)({ chain: chain.chain, retryCount: 0 });
  const watched = watching(chain, (args) => node.request(args as never));
  return { ...watched, transport: custom({ request: watched.request }) as Transport };
}

/** The blocks that mined this payer's transactions since `from`, in order. */
async function payerBlocks(chain: LocalChain, payer: Hex, from: bigint): Promise<bigint[]> {
  const latest = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
  const blocks: bigint[] = [];
  for (let number = from + 1n; number <= latest; number++) {
    const block = await chain.publicClient.getBlock({ blockNumber: number, includeTransactions: true });
    for (const transaction of block.transactions) if (transaction.from.toLowerCase() === payer.toLowerCase()) blocks.push(number);
  }
  return blocks;
}

/** Stops anvil's interval mining until `resume`, which mines one block and starts the 2-second blocks again. */
async function pauseMining(chain: LocalChain) {
  await chain.publicClient.request({ method: "evm_setIntervalMining" as never, params: [0] as never });
  return async () => {
    await chain.publicClient.request({ method: "evm_mine" as never, params: [] as never });
    await chain.publicClient.request({ method: "evm_setIntervalMining" as never, params: [2] as never });
  };
}

describe("client e2e: first paid response within one block (anvil, 2 s blocks)", function () {
  this.timeout(180_000);
  const suite = clientSuite({ blockTime: 2 });
  let shop: Seller;
  let nextWallet = 12;

  before(async function () {
    shop = await suite.seller();
  });

  /** Pays once and checks the funding: approve and open sent at one head and mined together in the next block. */
  async function assertOneBlock(pay: (url: string) => Promise<Response>, payer: Hex, sent: Sent[]) {
    const from = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const response = await pay(shop.url);
    const answeredAt = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    assert.equal(response.status, 200, await response.text());
    const blocks = await payerBlocks(suite.chain, payer, from);
    assert.equal(blocks.length, 2, "approve and open");
    assert.equal(blocks[0], blocks[1], "approve and open are mined in the same block");
    assert.equal(sent.length, 2);
    assert.equal(sent[0]!.head, sent[1]!.head, "open is sent without waiting for the approve's block");
    assert.equal(blocks[0], sent[0]!.head + 1n, "both are mined in the block after they were sent");
    assert.ok(answeredAt <= blocks[0]! + 1n, `answered at block ${answeredAt}, the open was mined in ${blocks[0]}`);
  }

  it("test_firstBlock_aLocalAccountsApproveAndOpenAreMinedInOneBlock", async function () {
    const account = await suite.freshBuyer();
    const watched = watchingTransport(suite.chain);
    await assertOneBlock(buyer(suite.chain, account, { transport: watched.transport }), account.address, watched.sent);
  });

  it("test_firstBlock_aJsonRpcAccountsApproveAndOpenAreMinedInOneBlock", async function () {
    const wallet = jsonRpcWallet(suite.chain, nextWallet++);
    await suite.chain.mint(wallet.address, 100n * USDC);
    const watched = watching(suite.chain, (args) => wallet.request(args as never));
    const client = createWalletClient({ account: wallet.address, chain: suite.chain.chain, transport: custom({ request: watched.request }) });
    await assertOneBlock(buyer(suite.chain, client), wallet.address, watched.sent);
    assert.equal(wallet.prompts.eth_sendTransaction, 2, "the wallet assigned both nonces");
  });

  it("test_firstBlock_aWalletThatEstimatesGasItselfGetsTheOpenAfterTheApprovesBlock", async function () {
    // The contract wallet's app sends each call through `execute` with its own gas estimate, which sees the
    // open revert while the approve is pending: the client falls back to waiting for the approve.
    const wallet = await contractWallet(suite.chain, nextWallet++);
    await suite.chain.mint(wallet.address, 100n * USDC);
    const owner = suite.chain.account(nextWallet - 1).address;
    const from = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const response = await buyer(suite.chain, wallet.client)(shop.url);
    assert.equal(response.status, 200, await response.text());
    const blocks = await payerBlocks(suite.chain, owner, from);
    assert.equal(blocks.length, 2, "approve and open, through the wallet");
    assert.ok(blocks[1]! > blocks[0]!, "the open follows the approve's block");
  });

  it("test_firstBlock_anExistingAllowanceSkipsTheApprove", async function () {
    const account = await suite.freshBuyer();
    const wallet = createWalletClient({ account, chain: suite.chain.chain, transport: http(suite.chain.rpcUrl) });
    const approve = await wallet.writeContract({ address: suite.chain.token, abi: erc20Abi, functionName: "approve", args: [suite.chain.escrow, 10n * USDC] });
    await suite.chain.publicClient.waitForTransactionReceipt({ hash: approve });
    const from = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const response = await buyer(suite.chain, account)(shop.url);
    assert.equal(response.status, 200, await response.text());
    assert.equal((await payerBlocks(suite.chain, account.address, from)).length, 1, "the open alone");
  });

  it("test_firstBlock_aTopUpsApproveAndTopUpAreMinedInOneBlock", async function () {
    // A deposit of one unit: the second request tops up.
    const smallShop = await suite.seller({ route: { suggestedDeposit: PRICE } });
    const account = await suite.freshBuyer();
    const pay = buyer(suite.chain, account);
    assert.equal((await pay(smallShop.url)).status, 200);
    const from = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const response = await pay(smallShop.url);
    assert.equal(response.status, 200, await response.text());
    const blocks = await payerBlocks(suite.chain, account.address, from);
    assert.equal(blocks.length, 2, "approve and topUp");
    assert.equal(blocks[0], blocks[1], "approve and topUp are mined in the same block");
    assert.equal((await pay.channels())[0]!.deposit, 2n * PRICE);
  });

  it("test_firstBlock_anApproveThatRevertsLeavesNoHalfOpenChannelAndIsAnApprovalFailedError", async function () {
    // A wallet that sends the approve with too little gas: it reverts on-chain, and the open beside it too.
    const wallet = jsonRpcWallet(suite.chain, nextWallet++);
    await suite.chain.mint(wallet.address, 100n * USDC);
    let sends = 0;
    const starved = (async (args: Request) => {
      if (args.method === "eth_sendTransaction" && sends++ === 0) {
        const [transaction] = args.params as [Record<string, unknown>];
        return wallet.request({ method: "eth_sendTransaction", params: [{ ...transaction, gas: "0x5a3c" }] } as never);
      }
      return wallet.request(args as never);
    }) as EIP1193RequestFn;
    const pay = buyer(suite.chain, createWalletClient({ account: wallet.address, chain: suite.chain.chain, transport: custom({ request: starved }) }));
    const served = shop.served.length;
    await assert.rejects(pay(shop.url), (error: unknown) => {
      assert.ok(error instanceof ApprovalFailedError, String(error));
      return true;
    });
    const [channel] = await pay.channels();
    assert.equal(channel!.status, "closed", "the channel is not left open");
    assert.equal(await getChannel({ client: suite.chain.publicClient, escrow: suite.chain.escrow, channelId: channel!.channelId }), null, "nothing escrowed");
    assert.equal(shop.served.length, served, "nothing served");
  });

  it("test_firstBlock_aRefusedApproveSendsNoOpenAndLeavesTheChannelClosed", async function () {
    const wallet = jsonRpcWallet(suite.chain, nextWallet++);
    await suite.chain.mint(wallet.address, 100n * USDC);
    const refusing = (async (args: Request) => {
      if (args.method === "eth_sendTransaction") {
        wallet.prompts.eth_sendTransaction++;
        throw Object.assign(new Error("User rejected the request."), { code: 4001 });
      }
      return wallet.request(args as never);
    }) as EIP1193RequestFn;
    const pay = buyer(suite.chain, createWalletClient({ account: wallet.address, chain: suite.chain.chain, transport: custom({ request: refusing }) }));
    await assert.rejects(pay(shop.url), TransactionSubmissionError);
    assert.equal(wallet.prompts.eth_sendTransaction, 1, "the open is not sent after a refused approve");
    assert.equal((await pay.channels())[0]!.status, "closed");
  });

  it("test_firstBlock_theClientAndTheGatePollForReceiptsAtTheirPollingInterval", async function () {
    // While no block comes for a second, a client polling every 50 ms asks about twenty times; one
    // polling every 5 s (at most) once or twice. The relaying gate's own wait counts the same way.
    const counts: Record<string, number> = {};
    for (const pollingInterval of [50, 5_000]) {
      const [account, relayedBuyer] = [await suite.freshBuyer(), await suite.freshBuyer()];
      const watched = watchingTransport(suite.chain);
      const gateWatched = watchingTransport(suite.chain);
      const gateShop = await suite.seller({ gate: { feePayer: true, pollingInterval, transport: gateWatched.transport } });
      const resume = await pauseMining(suite.chain);
      const paid = buyer(suite.chain, account, { transport: watched.transport, pollingInterval })(shop.url);
      const relayed = buyer(suite.chain, relayedBuyer)(gateShop.url);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const polls = (calls: Map<string, number>) => (calls.get("eth_blockNumber") ?? 0) + (calls.get("eth_getTransactionReceipt") ?? 0);
      counts[`client ${pollingInterval}`] = polls(watched.calls);
      counts[`gate ${pollingInterval}`] = polls(gateWatched.calls);
      await resume();
      assert.equal((await paid).status, 200);
      assert.equal((await relayed).status, 200);
    }
    assert.ok(counts["client 50"]! >= 8 && counts["client 5000"]! <= 4, JSON.stringify(counts));
    assert.ok(counts["gate 50"]! >= 8 && counts["gate 5000"]! <= 4, JSON.stringify(counts));
  });

  it("test_firstBlock_whenTheSellerPaysGasTheOpenIsRelayedAndMinedInTheNextBlock", async function () {
    const account = await suite.freshBuyer();
    const sellerWatched = watchingTransport(suite.chain);
    const gateShop = await suite.seller({ gate: { feePayer: true, transport: sellerWatched.transport } });
    const from = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const response = await buyer(suite.chain, account)(gateShop.url);
    const answeredAt = await suite.chain.publicClient.getBlockNumber({ cacheTime: 0 });
    assert.equal(response.status, 200, await response.text());
    assert.equal(account.signed.transactions, 0, "the buyer sends nothing");
    assert.deepEqual(await payerBlocks(suite.chain, account.address, from), []);
    const [relay] = sellerWatched.sent;
    const opened = await payerBlocks(suite.chain, suite.chain.account(1).address, from);
    assert.deepEqual(opened, [relay!.head + 1n], "the relayed open is mined in the block after it was sent");
    assert.ok(answeredAt <= opened[0]! + 1n, `answered at block ${answeredAt}, the open was mined in ${opened[0]}`);
  });

  it("test_firstBlock_aSellerPayingGasInATokenWithoutEip3009GetsAnOpenTheBuyerFunds", async function () {
    // An OpenZeppelin ERC-20 with nothing added: no authorizationState, so no relayed open can move it.
    const { abi, bytecode } = compilePlainToken();
    const deployer = createWalletClient({ account: suite.chain.account(0), chain: suite.chain.chain, transport: http(suite.chain.rpcUrl) });
    const deployment = await deployer.deployContract({ abi, bytecode, args: [10n ** 30n] });
    const token = (await suite.chain.publicClient.waitForTransactionReceipt({ hash: deployment })).contractAddress!;
    const gateShop = await suite.seller({ gate: { feePayer: true, currency: token } });
    const account = await suite.freshBuyer();
    const funding = await deployer.writeContract({ address: token, abi: erc20Abi, functionName: "transfer", args: [account.address, 10n * USDC] });
    await suite.chain.publicClient.waitForTransactionReceipt({ hash: funding });
    const fetch = recordingFetch();
    const response = await buyer(suite.chain, account, { currencies: [token], fetch })(gateShop.url);
    assert.equal(response.status, 200, await response.text());
    assert.deepEqual(
      fetch.sent.map(({ action, type }) => [action, type]),
      [["open", "hash"]],
    );
    assert.equal(account.signed.transactions, 2, "approve and open, from the buyer");
  });
});
