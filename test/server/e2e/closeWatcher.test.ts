// Issue 8, item 4 (watcher part): the forced-close watcher cannot be outrun. It rescans overlapping
// block ranges behind a confirmation depth (a load-balanced RPC may answer logs behind its block
// number), survives reorgs, catches close requests mined before it looked, and reconciles channels
// holding unsettled vouchers with the chain every few minutes, well inside the 15-minute grace period.
import assert from "node:assert/strict";
import { type Address, type Hex, http, numberToHex, type Transport } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import {
  createSettlementService,
  type PaymentGate,
  type SettlementEvent,
  type SettlementServiceParameters,
} from "../../../sdk/src/server/index.js";
import { requestChannelClose } from "../../../sdk/src/transactions/requestChannelClose.js";
import type { LocalChain } from "../../../scripts/localChain.js";
import { credential, type Offer, pay, type Payer, sellerChain, startMeteredGate } from "./helpers.js";

const PRICE = 1_000n;
const DEPOSIT = 100_000n;
const DAY = 86_400_000;

describe("server e2e: forced-close watcher", function () {
  this.timeout(120_000);
  const suite = sellerChain();
  let chain: LocalChain;
  let seller: Address;
  let payer: Payer;
  before(() => ({ chain, seller, payer } = suite));

  /**
   * The node's transport, except that eth_getLogs answers as of `lag.blocks` behind the head, like a
   * load-balanced RPC whose log index trails the node that answered eth_blockNumber.
   */
  function laggingTransport(lag: { blocks: bigint }): Transport {
    return (options) => {
      const base = http(chain.rpcUrl)(options);
      const request = (async (args: { method: string; params?: unknown }) => {
        if (args.method !== "eth_getLogs" || lag.blocks === 0n) return base.request(args as never);
        const [filter] = args.params as [{ fromBlock: Hex; toBlock: Hex }];
        const visible = BigInt((await base.request({ method: "eth_blockNumber" } as never)) as Hex) - lag.blocks;
        if (BigInt(filter.fromBlock) > visible) return [];
        const toBlock = BigInt(filter.toBlock) < visible ? filter.toBlock : numberToHex(visible);
        return base.request({ method: "eth_getLogs", params: [{ ...filter, toBlock }] } as never);
      }) as typeof base.request;
      return { ...base, request };
    };
  }

  const setUp = ({ clock = { offset: 0 }, lag = { blocks: 0n } } = {}) =>
    startMeteredGate(suite, { price: PRICE, deposit: DEPOSIT, now: () => Date.now() + clock.offset, transport: laggingTransport(lag) });

  /** A channel with `units` paid requests served on it. */
  async function channelWith({ url, offer }: { url: string; offer: Offer }, units: bigint): Promise<Hex> {
    const opened = await payer.openOnChain(seller, DEPOSIT);
    assert.equal((await pay(url, credential(offer.challenge, await payer.openPayload(opened, PRICE), payer.source))).status, 200);
    for (let i = 2n; i <= units; i++) assert.equal((await pay(url, credential(offer.challenge, await payer.voucher(opened.channelId, i * PRICE)))).status, 200);
    return opened.channelId;
  }

  function service(gate: PaymentGate, options: Partial<SettlementServiceParameters> = {}) {
    const events: SettlementEvent[] = [];
    const settlement = createSettlementService({ gate, policy: { amount: 10n ** 30n, maxAge: DAY }, onEvent: (event) => events.push(event), ...options });
    return { events, settlement };
  }

  const requestClose = (channelId: Hex) => requestChannelClose({ client: payer.wallet, publicClient: chain.publicClient, escrow: chain.escrow, channelId });
  /** Mines blocks one by one (hardhat_mine's bulk blocks have no state to read at). */
  const mine = async (blocks: number) => {
    for (let i = 0; i < blocks; i++) await chain.publicClient.request({ method: "evm_mine" as never, params: [] as never });
  };
  const onChain = async (channelId: Hex) => (await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId }))!;
  const closedEvents = (events: SettlementEvent[]) => events.filter((event) => event.type === "closed");
  const show = (events: SettlementEvent[]) => JSON.stringify(events, (_key, value) => (typeof value === "bigint" ? value.toString() : value));

  it("test_closeWatcher_catchesACloseRequestMinedBeforeItsLookback", async function () {
    const setup = await setUp();
    const channelId = await channelWith(setup, 3n);
    await requestClose(channelId);
    await mine(50);
    // The watcher starts after the request and looks back less far than it.
    const { events, settlement } = service(setup.gate, { lookbackBlocks: 10n });
    await settlement.runOnce();
    const closed = closedEvents(events);
    assert.equal(closed.length, 1, show(events));
    assert.ok(closed[0]?.type === "closed" && closed[0].reason === "close-requested" && closed[0].channelId === channelId);
    assert.deepEqual([(await onChain(channelId)).finalized, (await onChain(channelId)).settled], [true, 3n * PRICE]);
    assert.equal((await setup.store.getChannel(channelId))!.status, "closed");
  });

  it("test_closeWatcher_rescansBehindALaggingRpc", async function () {
    const lag = { blocks: 0n };
    const setup = await setUp({ lag });
    const channelId = await channelWith(setup, 2n);
    // Reconciliation is left out of this test: only the logs can tell the watcher.
    const { events, settlement } = service(setup.gate, { reconcileInterval: 365 * DAY });
    await settlement.runOnce();
    await requestClose(channelId);
    await mine(4);
    lag.blocks = 6n;
    await settlement.runOnce();
    assert.deepEqual(closedEvents(events), [], "the lagging RPC hid the request");
    lag.blocks = 0n;
    await mine(1);
    await settlement.runOnce();
    assert.equal(closedEvents(events).length, 1, `the overlapping rescan found it: ${show(events)}`);
    assert.equal((await onChain(channelId)).finalized, true);
    // Scanning the same blocks again changes nothing.
    const nonce = await chain.publicClient.getTransactionCount({ address: seller });
    await settlement.runOnce();
    assert.equal(await chain.publicClient.getTransactionCount({ address: seller }), nonce);
    assert.equal(events.filter((event) => event.type === "close-requested").length, 1, show(events));
  });

  it("test_closeWatcher_aReorgedCloseRequestBreaksNothing", async function () {
    const setup = await setUp();
    const channelId = await channelWith(setup, 2n);
    const { events, settlement } = service(setup.gate, { reconcileInterval: 365 * DAY });
    await settlement.runOnce();
    const snapshotId = await chain.publicClient.request({ method: "evm_snapshot" as never, params: [] as never });
    await requestClose(channelId);
    await mine(1);
    // Not yet confirmed: the watcher does not act on it.
    await settlement.runOnce();
    assert.deepEqual(closedEvents(events), [], show(events));
    // A reorg drops the request.
    assert.equal(await chain.publicClient.request({ method: "evm_revert" as never, params: [snapshotId] as never }), true);
    await mine(5);
    await settlement.runOnce();
    assert.deepEqual(closedEvents(events), [], show(events));
    assert.ok(!events.some((event) => event.type === "error"), show(events));
    assert.equal((await setup.store.getChannel(channelId))!.status, "open");
    assert.equal((await pay(setup.url, credential(setup.offer.challenge, await payer.voucher(channelId, 3n * PRICE)))).status, 200);
    // The payer requests the close again, in another block: it is found and closed with the highest voucher.
    await requestClose(channelId);
    await mine(3);
    await settlement.runOnce();
    assert.equal(closedEvents(events).length, 1, show(events));
    assert.deepEqual([(await onChain(channelId)).finalized, (await onChain(channelId)).settled], [true, 3n * PRICE]);
  });

  it("test_closeWatcher_reconcilesUnsettledChannelsWithinTheGracePeriod", async function () {
    const clock = { offset: 0 };
    // An RPC whose logs never show the request: only reading the channel can.
    const setup = await setUp({ clock, lag: { blocks: 1_000_000n } });
    const channelId = await channelWith(setup, 2n);
    const { events, settlement } = service(setup.gate);
    await settlement.runOnce();
    await requestClose(channelId);
    await mine(3);
    await settlement.runOnce();
    assert.deepEqual(closedEvents(events), [], "reconciled again before its interval");
    // A few minutes later (the escrow's grace period is 15), the channel is read and closed.
    clock.offset += 5 * 60_000;
    await settlement.runOnce();
    assert.equal(closedEvents(events).length, 1, show(events));
    assert.deepEqual([(await onChain(channelId)).finalized, (await onChain(channelId)).settled], [true, 2n * PRICE]);
  });
});
