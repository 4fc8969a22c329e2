// Restart and resume: a client keeping its channels in a file is discarded; a new client on the same
// file pays on the same channel, with no second open, its vouchers continuing from the stored cumulative.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEventLogs } from "viem";
import { createFileChannelStore } from "../../../sdk/src/client/fileStore.js";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { tollgateEscrowAbi } from "../../../sdk/src/generated/tollgateEscrowAbi.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { buyer, countingAccount, PRICE, recordingFetch, type Seller, startSeller, transactionsSince, USDC } from "./fixture.js";

describe("client e2e: restart and resume from a file store", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let shop: Seller;

  before(async function () {
    chain = await startLocalChain();
    shop = await startSeller({ chain });
  });

  after(async function () {
    await shop?.stop();
    await chain?.stop();
  });

  it("test_resume_aNewClientOnTheSameFileContinuesTheStoredChannel", async function () {
    const path = join(mkdtempSync(join(tmpdir(), "tollgate-client-store-")), "channels.json");
    const account = countingAccount(chain.account(2));
    await chain.mint(account.address, 100n * USDC);
    const startBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });

    const first = buyer(chain, account, { store: createFileChannelStore({ path }) });
    for (let i = 0; i < 2; i++) assert.equal((await first(shop.url)).status, 200);
    const [stored] = await first.channels();
    assert.equal(stored!.cumulativeAmount, 2n * PRICE);
    const transactionsByFirst = await transactionsSince(chain, startBlock);
    assert.equal(transactionsByFirst, 2, "approve + open");
    // The file holds the channel with its last voucher, amounts as decimal strings.
    const onDisk = JSON.parse(readFileSync(path, "utf8")) as { channelId: string; cumulativeAmount: { $bigint: string } }[];
    assert.equal(onDisk.length, 1);
    assert.equal(onDisk[0]!.channelId, stored!.channelId);
    assert.equal(onDisk[0]!.cumulativeAmount.$bigint, (2n * PRICE).toString());

    // The first client is gone (nothing of it is reused but the file); a new one resumes.
    const afterFirst = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const fetch = recordingFetch();
    const second = buyer(chain, account, { store: createFileChannelStore({ path }), fetch });
    for (let i = 0; i < 3; i++) assert.equal((await second(shop.url)).status, 200);

    assert.equal(await transactionsSince(chain, afterFirst), 0, "no second open, no top-up");
    const [resumed] = await second.channels();
    assert.equal(resumed!.channelId, stored!.channelId);
    assert.equal(resumed!.cumulativeAmount, 5n * PRICE);
    assert.equal(resumed!.spent, 5n * PRICE);
    // Vouchers only, continuing from the stored cumulative, one per request.
    assert.deepEqual(
      fetch.sent.map((sent) => [sent.action, sent.cumulativeAmount, sent.status]),
      [
        ["voucher", 3n * PRICE, 200],
        ["voucher", 4n * PRICE, 200],
        ["voucher", 5n * PRICE, 200],
      ],
    );
    // One ChannelOpened in the whole run, for this channel.
    const logs = await chain.publicClient.getLogs({ address: chain.escrow, fromBlock: startBlock + 1n });
    const opened = parseEventLogs({ abi: tollgateEscrowAbi, eventName: "ChannelOpened", logs });
    assert.deepEqual(
      opened.map((log) => log.args.channelId),
      [stored!.channelId],
    );
    const record = await shop.store.getChannel(stored!.channelId);
    assert.equal(record!.acceptedCumulative, 5n * PRICE);
    assert.equal(record!.spent, 5n * PRICE);
    assert.equal(shop.served.length, 5);

    // A third client on the file closes the channel cooperatively: the seller gets exactly 5 photos.
    const sellerBefore = await chain.balanceOf(shop.gate.recipient);
    const closed = await buyer(chain, account, { store: createFileChannelStore({ path }) }).close({ url: shop.url });
    assert.equal(closed.settled, 5n * PRICE);
    assert.equal(await chain.balanceOf(shop.gate.recipient), sellerBefore + 5n * PRICE);
    const final = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId: stored!.channelId });
    assert.equal(final!.finalized, true);
    const reread = JSON.parse(readFileSync(path, "utf8")) as { status: string }[];
    assert.equal(reread[0]!.status, "closed");
  });
  it("test_resume_aVoucherSignedButNeverDeliveredIsReusedNotRaised", async function () {
    const path = join(mkdtempSync(join(tmpdir(), "tollgate-client-store-")), "channels.json");
    const account = countingAccount(chain.account(3));
    await chain.mint(account.address, 100n * USDC);
    // The first client's network dies on its third paid request, after it stored the voucher for it.
    let calls = 0;
    const dying = (async (input: string | URL | Request, init?: RequestInit) => {
      if (++calls === 4) throw new TypeError("fetch failed (connection reset)");
      return globalThis.fetch(input, init);
    }) as typeof fetch;
    const first = buyer(chain, account, { store: createFileChannelStore({ path }), fetch: dying });
    for (let i = 0; i < 2; i++) assert.equal((await first(shop.url)).status, 200);
    await assert.rejects(first(shop.url), /fetch failed/);
    const [stored] = await first.channels();
    assert.equal(stored!.cumulativeAmount, 3n * PRICE, "stored before it was sent");
    assert.equal((await shop.store.getChannel(stored!.channelId))!.acceptedCumulative, 2n * PRICE, "never reached the seller");

    // Without session keys the account signs the vouchers, so the one new voucher is counted at the account.
    const signedBefore = account.signed.typedData.length;
    const fetch = recordingFetch();
    const second = buyer(chain, account, { store: createFileChannelStore({ path }), fetch });
    assert.equal((await second(shop.url)).status, 200);
    // The stored voucher pays the request it was signed for: nothing new is signed, nothing more authorized.
    assert.equal(account.signed.typedData.length, signedBefore);
    assert.deepEqual(fetch.sent.map((sent) => [sent.action, sent.cumulativeAmount]), [["voucher", 3n * PRICE]]);
    assert.equal(await second.totalAuthorized(), 3n * PRICE);
    assert.equal(await second.totalSpent(), 3n * PRICE);
    assert.equal((await shop.store.getChannel(stored!.channelId))!.spent, 3n * PRICE);
  });
  it("test_resume_aChannelOpenedOnChainButNeverAnnouncedIsAdoptedAfterRestart", async function () {
    const path = join(mkdtempSync(join(tmpdir(), "tollgate-client-store-")), "channels.json");
    const account = countingAccount(chain.account(4));
    await chain.mint(account.address, 100n * USDC);
    const startBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    // The network dies when the open credential is sent, after the open is mined and the voucher stored.
    let calls = 0;
    const dying = (async (input: string | URL | Request, init?: RequestInit) => {
      if (++calls === 2) throw new TypeError("fetch failed (connection reset)");
      return globalThis.fetch(input, init);
    }) as typeof fetch;
    await assert.rejects(buyer(chain, account, { store: createFileChannelStore({ path }), fetch: dying, sessionKeys: false })(shop.url), /fetch failed/);
    assert.equal(await transactionsSince(chain, startBlock), 2, "approve + open were mined");

    // Without session keys the account signs the vouchers, so the one new voucher is counted at the account.
    const signedBefore = account.signed.typedData.length;
    const fetch = recordingFetch();
    const second = buyer(chain, account, { store: createFileChannelStore({ path }), fetch, sessionKeys: false });
    for (let i = 0; i < 2; i++) assert.equal((await second(shop.url)).status, 200);
    // The seller adopts the channel from the chain on the stored first voucher; no second open.
    assert.deepEqual(fetch.sent.map((sent) => [sent.action, sent.cumulativeAmount, sent.status]), [["voucher", PRICE, 200], ["voucher", 2n * PRICE, 200]]);
    assert.equal(account.signed.typedData.length, signedBefore + 1);
    assert.equal(await transactionsSince(chain, startBlock), 2);
    const [channel] = await second.channels();
    assert.equal((await shop.store.getChannel(channel!.channelId))!.spent, 2n * PRICE);
  });
});
