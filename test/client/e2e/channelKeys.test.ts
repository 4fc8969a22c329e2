// Channels are keyed by who pays and where: two accounts sharing a file store each pay on their own
// channel, a relay on another origin never gets a voucher for a channel opened for another site, and a
// store written before the key had these parts is resumed by its payer and ignored by anyone else.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFileChannelStore } from "../../../sdk/src/client/fileStore.js";
import { parseCredential } from "../../../sdk/src/protocol/credential.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { buyer, countingAccount, type HostileSeller, PRICE, recordingFetch, type Seller, startHostileSeller, startSeller, transactionsSince, USDC } from "./fixture.js";

describe("client e2e: channel keys", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let shop: Seller;
  const relays: HostileSeller[] = [];
  let nextBuyer = 2;

  before(async function () {
    chain = await startLocalChain();
    shop = await startSeller({ chain });
  });

  after(async function () {
    for (const relay of relays) await relay.stop();
    await shop?.stop();
    await chain?.stop();
  });

  async function freshBuyer() {
    const account = countingAccount(chain.account(nextBuyer++));
    await chain.mint(account.address, 100n * USDC);
    return account;
  }

  const storePath = () => join(mkdtempSync(join(tmpdir(), "tollgate-client-keys-")), "channels.json");

  it("test_client_aSharedFileStoreNeverSignsForAnotherAccountsChannel", async function () {
    const store = createFileChannelStore({ path: storePath() });
    const [alice, bob] = [await freshBuyer(), await freshBuyer()];
    const payAlice = buyer(chain, alice, { store });
    const bobFetch = recordingFetch();
    const payBob = buyer(chain, bob, { store, fetch: bobFetch });
    assert.equal((await payAlice(shop.url)).status, 200);
    const response = await payBob(shop.url);
    assert.equal(response.status, 200, await response.clone().text());
    const [aliceChannel] = await payAlice.channels();
    const [bobChannel] = await payBob.channels();
    assert.notEqual(bobChannel!.channelId, aliceChannel!.channelId);
    assert.equal((await payAlice.channels()).length, 1, "each client sees only its own channels");
    assert.equal((await payBob.channels()).length, 1);
    assert.deepEqual(bobFetch.sent.map((sent) => sent.action), ["open"]);
    assert.equal((await shop.store.getChannel(bobChannel!.channelId))!.spent, PRICE);
    assert.equal((await shop.store.getChannel(aliceChannel!.channelId))!.spent, PRICE);
  });

  it("test_client_aRelayOnAnotherOriginCannotSpendTheChannel", async function () {
    const seen: string[] = [];
    const relay = await startHostileSeller({
      honest: shop,
      answer: async (request) => {
        const authorization = request.headers.get("authorization");
        if (authorization !== null) seen.push(String(parseCredential(authorization).payload.channelId));
        // A relay passes the request on to the real site.
        return fetch(shop.url, { method: request.method, headers: request.headers });
      },
    });
    relays.push(relay);
    const account = await freshBuyer();
    const pay = buyer(chain, account);
    assert.equal((await pay(shop.url)).status, 200);
    const [site] = await pay.channels();
    await pay(relay.url);
    assert.ok(!seen.includes(site!.channelId), "no credential for the site's channel went to the relay");
    const [after] = (await pay.channels()).filter((channel) => channel.channelId === site!.channelId);
    assert.equal(after!.cumulativeAmount, PRICE);
  });

  it("test_client_aLegacyStoreIsResumedByItsPayerAndIgnoredByOthers", async function () {
    const path = storePath();
    const account = await freshBuyer();
    const first = buyer(chain, account, { store: createFileChannelStore({ path }) });
    assert.equal((await first(shop.url)).status, 200);
    // Rewrite the file as a client before keys had the payer and the origin wrote it.
    const records = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>[];
    const legacy = records.map(({ payer: _payer, origin: _origin, ...record }) => ({ ...record, key: String(record.key).split(":").slice(0, 4).join(":") }));
    writeFileSync(path, JSON.stringify(legacy));
    const [stored] = await first.channels();

    // Another account on the legacy file opens its own channel and never signs for the stored one.
    const other = await freshBuyer();
    const otherFetch = recordingFetch();
    const stranger = buyer(chain, other, { store: createFileChannelStore({ path }), fetch: otherFetch });
    assert.equal((await stranger(shop.url)).status, 200);
    assert.deepEqual(otherFetch.sent.map((sent) => sent.action), ["open"]);
    assert.deepEqual((await stranger.channels()).map((channel) => channel.channelId).includes(stored!.channelId), false);

    // The payer resumes its channel: a voucher, no open, no transaction.
    const fromBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const fetch = recordingFetch();
    const resumed = buyer(chain, account, { store: createFileChannelStore({ path }), fetch });
    assert.equal((await resumed(shop.url)).status, 200);
    assert.deepEqual(fetch.sent.map((sent) => [sent.action, sent.cumulativeAmount]), [["voucher", 2n * PRICE]]);
    assert.equal(await transactionsSince(chain, fromBlock), 0);
    const mine = await resumed.channels();
    assert.deepEqual(mine.map((channel) => [channel.channelId, channel.cumulativeAmount]), [[stored!.channelId, 2n * PRICE]]);
  });
});
