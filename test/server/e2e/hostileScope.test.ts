// Issue 8, items 2 and 4: several gates on one store (SQLite file or PostgreSQL schema) each use only
// their own records, and a finalized or force-closing channel is refused on every action, inside the
// admission transaction; plus the checks planted bugs showed no test pinned down.
import assert from "node:assert/strict";
import { type Abi, type Address, createWalletClient, type Hex, http } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { mockStablecoinAbi } from "../../../sdk/src/generated/mockStablecoinAbi.js";
import { mockStablecoinBytecode } from "../../../sdk/src/generated/mockStablecoinBytecode.js";
import { tollgateEscrowAbi } from "../../../sdk/src/generated/tollgateEscrowAbi.js";
import { tollgateEscrowBytecode } from "../../../sdk/src/generated/tollgateEscrowBytecode.js";
import { createSettlementService, type PaymentGate, type PaymentGateParameters, type SessionStore, type SettlementEvent, StoreError } from "../../../sdk/src/server/index.js";
import type { SessionPayload } from "../../../sdk/src/session/payload.js";
import { requestChannelClose } from "../../../sdk/src/transactions/requestChannelClose.js";
import { signVoucher } from "../../../sdk/src/voucher/signVoucher.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import {
  credential,
  expectProblem,
  fetchOffer,
  makeGate,
  pay,
  Payer,
  postgresSchemas,
  PROBLEMS,
  receiptOf,
  SELLER,
  SESSION_PROBLEMS,
  snapshot,
  sqliteStore,
  startServer,
  type TestServer,
} from "./helpers.js";

const PRICE = 1_000n;
const DEPOSIT = 100n * PRICE;

/** Deploys another copy of a contract on the local chain (plain CREATE: not at the address the SDK's deployment uses). */
async function deployCopy(chain: LocalChain, contract: { abi: Abi; bytecode: Hex; args?: readonly unknown[] }): Promise<Address> {
  const wallet = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: chain.account(0) });
  const hash = await wallet.deployContract({ abi: contract.abi, bytecode: contract.bytecode, args: contract.args ?? [] } as never);
  const { contractAddress } = await chain.publicClient.waitForTransactionReceipt({ hash });
  assert.ok(contractAddress, "the deployment created no contract");
  return contractAddress;
}

/** A server of one gate: a route at PRICE whose handler answers with `status` (200 unless told). */
function serve(gate: PaymentGate): Promise<TestServer> {
  const route = gate.session({ amount: PRICE, suggestedDeposit: DEPOSIT });
  return startServer((request) =>
    route.handle(request, async () => {
      const status = Number(new URL(request.url).searchParams.get("status") ?? 200);
      return Response.json({ served: true }, { status });
    }),
  );
}

describe("server e2e: hostile scope (several gates on one store, closing channels)", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let seller: Address;
  let escrowB: Address;
  let tokenB: Address;
  const postgres = postgresSchemas();
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async function () {
    await postgres.assertReachable();
    chain = await startLocalChain();
    seller = chain.account(SELLER).address;
    escrowB = await deployCopy(chain, { abi: tollgateEscrowAbi, bytecode: tollgateEscrowBytecode });
    tokenB = await deployCopy(chain, { abi: mockStablecoinAbi, bytecode: mockStablecoinBytecode, args: ["Other USD", "OUSD"] });
    assert.notEqual(escrowB.toLowerCase(), chain.escrow.toLowerCase());
  });

  after(async function () {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await postgres.dropAll();
    await chain?.stop();
  });

  async function newStore(kind: "sqlite" | "postgres"): Promise<SessionStore> {
    const { store } = kind === "sqlite" ? sqliteStore() : await postgres.create(4);
    cleanups.push(() => store.close());
    return store;
  }

  async function started(gate: PaymentGate): Promise<TestServer> {
    const server = await serve(gate);
    cleanups.push(() => server.close());
    return server;
  }

  let payerIndex = 2;
  async function newPayer(): Promise<Payer> {
    const payer = new Payer(chain, chain.account(payerIndex++));
    await chain.mint(payer.address, 10n * DEPOSIT);
    return payer;
  }

  /** Opens a channel on escrow A to the seller and pays `paid` requests at `url`; returns the open. */
  async function openAndPay(payer: Payer, url: string, paid: number) {
    const opened = await payer.openOnChain(seller, DEPOSIT);
    const offer = await fetchOffer(url);
    for (let i = 1; i <= paid; i++) {
      const payload = i === 1 ? await payer.openPayload(opened, PRICE) : await payer.voucher(opened.channelId, BigInt(i) * PRICE);
      const response = await pay(url, credential(offer.challenge, payload, payer.source));
      assert.equal(response.status, 200, await response.text());
    }
    return { opened, offer };
  }

  /**
   * Gate A (the chain's escrow and token, the seller) and gate B (A's parameters with `overrides`) on one
   * store, each behind a server, and a payer with a channel that paid `paid` requests at A.
   */
  async function twoGates(kind: "sqlite" | "postgres", overrides: Partial<PaymentGateParameters>, paid: number) {
    const store = await newStore(kind);
    const gateA = makeGate(chain, store);
    const gateB = makeGate(chain, store, overrides);
    const [serverA, serverB] = [await started(gateA), await started(gateB)];
    const payer = await newPayer();
    const { opened } = await openAndPay(payer, `${serverA.url}/item`, paid);
    return { store, gateA, gateB, serverA, serverB, payer, opened };
  }

  /** A gate on a fresh SQLite store, its server, and a payer with a channel that paid `paid` requests there. */
  async function paidChannel(paid: number) {
    const store = await newStore("sqlite");
    const gate = makeGate(chain, store);
    const server = await started(gate);
    const payer = await newPayer();
    return { store, gate, server, payer, ...(await openAndPay(payer, `${server.url}/item`, paid)) };
  }

  /** The payer requests a forced close on-chain; the store records it as the settlement service's watcher does. */
  async function requestAndRecordForcedClose(payer: Payer, store: SessionStore, channelId: Hex) {
    await requestChannelClose({ client: payer.wallet, publicClient: chain.publicClient, escrow: chain.escrow, channelId });
    const { closeRequestedAt } = (await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId }))!;
    assert.notEqual(closeRequestedAt, 0n);
    await store.withChannel(channelId, async (tx) => tx.putChannel({ ...tx.channel!, closeRequestedAt }));
  }

  for (const kind of ["sqlite", "postgres"] as const) {
    it(`test_storeScope_voucherUnderAnotherEscrowCannotOverwriteTheRecord_${kind}`, async function () {
      const { store, gateA, gateB, serverB, payer, opened } = await twoGates(kind, { escrow: escrowB }, 2);
      const before = await snapshot(store);

      // The payer signs for the same channel id under escrow B's domain: a voucher escrow A rejects.
      const offerB = await fetchOffer(`${serverB.url}/item`);
      const signature = await signVoucher({ account: payer.account, chainId: chain.chain.id, escrow: escrowB, channelId: opened.channelId, cumulativeAmount: 5n * PRICE });
      const voucher: SessionPayload = { action: "voucher", channelId: opened.channelId, cumulativeAmount: 5n * PRICE, signature };
      await expectProblem(await pay(`${serverB.url}/item`, credential(offerB.challenge, voucher)), 410, `${SESSION_PROBLEMS}channel-not-found`);
      // Wrapped in an open naming escrow A's open transaction, and as a close: refused all the same.
      const open: SessionPayload = { action: "open", type: "hash", channelId: opened.channelId, hash: opened.hash, cumulativeAmount: 5n * PRICE, signature, salt: opened.salt };
      const refusedOpen = await pay(`${serverB.url}/item`, credential(offerB.challenge, open, payer.source));
      const refusal = await refusedOpen.text();
      assert.ok(refusedOpen.status === 402 || refusedOpen.status === 410, `expected a refusal, got ${refusedOpen.status}: ${refusal}`);
      const close: SessionPayload = { action: "close", channelId: opened.channelId, cumulativeAmount: 5n * PRICE, signature };
      await expectProblem(await pay(`${serverB.url}/item`, credential(offerB.challenge, close)), 410, `${SESSION_PROBLEMS}channel-not-found`);
      assert.deepEqual(await snapshot(store), before, "gate B changed a record of gate A");
      assert.equal(await gateB.store.getChannel(opened.channelId), undefined);
      // Gate B's store cannot write over the record either, even with one of its own scope.
      await assert.rejects(
        gateB.store.withChannel(opened.channelId, async (tx) => {
          assert.equal(tx.channel, undefined);
          await tx.putChannel({ ...before.channels[0]!, escrow: escrowB });
        }),
        (error) => error instanceof StoreError && error.reason === "foreign-record",
      );
      // Gate B's settlement service, which lists channels through gate.store, leaves A's channel alone.
      const events: SettlementEvent[] = [];
      await createSettlementService({ gate: gateB, onEvent: (event) => events.push(event) }).settleAll();
      assert.deepEqual(events, []);
      assert.deepEqual(await snapshot(store), before);

      // Gate A still closes with the voucher it holds, and the seller is paid what was delivered.
      const balance = await chain.balanceOf(seller);
      const closed = await gateA.closeChannel(opened.channelId);
      assert.equal(closed.settledOnChain, 2n * PRICE);
      assert.equal(await chain.balanceOf(seller), balance + 2n * PRICE);
    });
  }

  it("test_storeScope_gateOfAnotherCurrencyTreatsTheRecordAsUnknown", async function () {
    const { store, gateB: gateT, serverB: serverT, payer, opened } = await twoGates("sqlite", { currency: tokenB }, 2);
    const before = await snapshot(store);
    // Same escrow, same seller: the voucher is valid for this channel, but the channel holds another token.
    const offerT = await fetchOffer(`${serverT.url}/item`);
    await expectProblem(await pay(`${serverT.url}/item`, credential(offerT.challenge, await payer.voucher(opened.channelId, 3n * PRICE))), 402, `${PROBLEMS}verification-failed`);
    assert.deepEqual(await snapshot(store), before);
    assert.deepEqual(await gateT.store.listChannels(), []);
  });

  it("test_storeScope_gateListsAndRecoversOnlyItsOwnRecords", async function () {
    const otherSeller = chain.account(SELLER + 10);
    const { store, gateA, gateB: gateC, serverB: serverC, payer, opened: ofA } = await twoGates("postgres", { account: otherSeller }, 1);
    const ofC = await payer.openOnChain(otherSeller.address, DEPOSIT);
    const offerC = await fetchOffer(`${serverC.url}/item`);
    assert.equal((await pay(`${serverC.url}/item`, credential(offerC.challenge, await payer.openPayload(ofC, PRICE), payer.source))).status, 200);
    // Gate C (same escrow, another recipient) is sent a voucher on A's channel, valid under the shared domain.
    await expectProblem(await pay(`${serverC.url}/item`, credential(offerC.challenge, await payer.voucher(ofA.channelId, 2n * PRICE))), 402, `${PROBLEMS}verification-failed`);

    assert.deepEqual((await gateA.store.listChannels()).map((c) => c.channelId), [ofA.channelId]);
    assert.deepEqual((await gateC.store.listChannels({ status: "open" })).map((c) => c.channelId), [ofC.channelId]);

    // A reservation a crash left on A's channel is A's to release, not C's.
    await store.withChannel(ofA.channelId, async (tx) => {
      const channel = tx.channel!;
      await tx.putCharge({ channelId: channel.channelId, key: "request:crashed", payer: channel.payer, amount: PRICE, units: 1n, status: "reserved", fingerprint: null, createdAt: 0, updatedAt: 0 });
      await tx.putChannel({ ...channel, reserved: channel.reserved + PRICE });
    });
    const before = await snapshot(store);
    assert.deepEqual(await gateC.recover(), []);
    assert.deepEqual(await gateC.store.listCharges({ status: "reserved" }), []);
    assert.deepEqual(await snapshot(store), before);
    assert.deepEqual((await gateA.recover()).map((c) => c.key), ["request:crashed"]);
  });

  it("test_admission_secondInstanceRefusesVoucherOnRecordedForcedClose", async function () {
    const { store, schema } = await postgres.create(4);
    cleanups.push(() => store.close());
    const second = await postgres.open(schema, 4);
    cleanups.push(() => second.close());
    const first = await started(makeGate(chain, store));
    const payer = await newPayer();
    const { opened, offer } = await openAndPay(payer, `${first.url}/item`, 2);
    await requestAndRecordForcedClose(payer, store, opened.channelId);
    const before = await snapshot(store);

    // A second instance, which never saw this channel's signer, takes the slow path.
    const other = await started(makeGate(chain, second));
    await expectProblem(await pay(`${other.url}/item`, credential(offer.challenge, await payer.voucher(opened.channelId, 3n * PRICE))), 410, `${SESSION_PROBLEMS}channel-finalized`);
    // The first instance remembers the signer and takes the fast path.
    await expectProblem(await pay(`${first.url}/item`, credential(offer.challenge, await payer.voucher(opened.channelId, 3n * PRICE))), 410, `${SESSION_PROBLEMS}channel-finalized`);
    assert.deepEqual(await snapshot(store), before);
  });

  it("test_admission_openCredentialOnStoredClosingChannelIsRefused", async function () {
    const { store, server, payer, opened, offer } = await paidChannel(2);
    await requestAndRecordForcedClose(payer, store, opened.channelId);
    const before = await snapshot(store);

    // The voucher wrapped in the channel's `open` credential, sent again.
    const open = await payer.openPayload(opened, 3n * PRICE);
    await expectProblem(await pay(`${server.url}/item`, credential(offer.challenge, open, payer.source)), 410, `${SESSION_PROBLEMS}channel-finalized`);
    assert.deepEqual(await snapshot(store), before);
  });

  it("test_admission_topUpThatCancelsARecordedForcedCloseIsAdmitted", async function () {
    const { store, server, payer, opened, offer } = await paidChannel(1);
    await requestAndRecordForcedClose(payer, store, opened.channelId);
    // The escrow cancels a pending close on a top-up: the channel is live again, and so is the session.
    const hash = await payer.topUpOnChain(opened.channelId, PRICE);
    const topUp: SessionPayload = { action: "topUp", type: "hash", channelId: opened.channelId, hash, additionalDeposit: PRICE };
    // Sent with HEAD, which costs nothing: a plain GET would also need a voucher for its unit.
    const response = await pay(`${server.url}/item`, credential(offer.challenge, topUp), { method: "HEAD" });
    assert.equal(response.status, 204);
    const [channel] = await store.listChannels();
    assert.deepEqual([channel!.closeRequestedAt, channel!.deposit], [0n, DEPOSIT + PRICE]);
    const next = await pay(`${server.url}/item`, credential(offer.challenge, await payer.voucher(opened.channelId, 2n * PRICE)));
    assert.equal(next.status, 200, await next.text());
  });

  it("test_admission_openCredentialForChannelFirstSeenClosingIsRefused", async function () {
    const store = await newStore("sqlite");
    const server = await started(makeGate(chain, store));
    const payer = await newPayer();
    const opened = await payer.openOnChain(seller, DEPOSIT);
    await requestChannelClose({ client: payer.wallet, publicClient: chain.publicClient, escrow: chain.escrow, channelId: opened.channelId });
    const offer = await fetchOffer(`${server.url}/item`);
    await expectProblem(await pay(`${server.url}/item`, credential(offer.challenge, await payer.openPayload(opened, PRICE), payer.source)), 410, `${SESSION_PROBLEMS}channel-finalized`);
    assert.deepEqual(await snapshot(store), { channels: [], charges: [] });
  });

  it("test_admission_closeOfClosedChannelIsRefused", async function () {
    const { store, gate, server, payer, opened, offer } = await paidChannel(1);
    await gate.closeChannel(opened.channelId);
    const before = await snapshot(store);
    const close: SessionPayload = { action: "close", channelId: opened.channelId, cumulativeAmount: 2n * PRICE, signature: await payer.sign(opened.channelId, 2n * PRICE) };
    await expectProblem(await pay(`${server.url}/item`, credential(offer.challenge, close)), 410, `${SESSION_PROBLEMS}channel-finalized`);
    await expectProblem(await pay(`${server.url}/item`, credential(offer.challenge, await payer.voucher(opened.channelId, 2n * PRICE))), 410, `${SESSION_PROBLEMS}channel-finalized`);
    assert.deepEqual(await snapshot(store), before);
  });

  it("test_billing_handlerReturning500IsNotBilled", async function () {
    const { store, server, payer, opened, offer } = await paidChannel(1);
    const response = await pay(`${server.url}/item?status=500`, credential(offer.challenge, await payer.voucher(opened.channelId, 2n * PRICE)));
    assert.equal(response.status, 500);
    assert.equal(receiptOf(response).spent, String(PRICE), "a 500 must not be charged");
    await response.body?.cancel();
    const [channel] = await store.listChannels();
    assert.deepEqual([channel!.acceptedCumulative, channel!.spent, channel!.reserved, channel!.units], [2n * PRICE, PRICE, 0n, 1n]);
    assert.equal((await store.listCharges({ status: "released" })).length, 1);
    assert.equal((await store.listCharges({ status: "committed" })).length, 1);
  });
});
