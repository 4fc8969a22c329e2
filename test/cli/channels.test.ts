// The payer's and payee's channel commands against a real local chain: open → channels → top-up →
// request-close → withdraw, the payee's close with a voucher (file, flags, store) or forfeit, and the
// exit codes of bad amounts, unknown channels and reverts.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Hex } from "viem";
import { type LocalChain, startLocalChain } from "../../scripts/localChain.js";
import { getChannel, signVoucher } from "../../sdk/src/index.js";
import { createSqliteStore } from "../../sdk/src/server/sqlite.js";
import { cli, cliJson, privateKeyOf, skipUnderCoverage } from "./helpers.js";

const USDC = 1_000_000n;
const UNKNOWN_CHANNEL = `0x${"00".repeat(31)}01`;

type ChannelJson = { channelId: Hex; status: string; payer: string; payee: string; deposit: string; settled: string; unsettled: string; withdrawableAt: string | null };

describe("tollgate CLI: channels of a payer and a payee", function () {
  this.timeout(90_000);
  let chain: LocalChain;
  let scratch: string;
  let payerEnv: Record<string, string>;
  let payeeEnv: Record<string, string>;
  const outputs: string[] = [];
  const payer = () => chain.account(2);
  const payee = () => chain.account(3);

  const run = async (args: string[], env: Record<string, string>) => {
    const result = await cli(args, env);
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const runJson = async <T>(args: string[], env: Record<string, string>, code = 0) => {
    const result = await run([...args, "--json"], env);
    assert.equal(result.code, code, `tollgate ${args.join(" ")}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };
  const open = async (amount: string) =>
    (await runJson<{ channelId: Hex }>(["open", "--payee", payee().address, "--amount", amount], payerEnv)).channelId;
  const voucher = async (channelId: Hex, cumulativeAmount: bigint) =>
    signVoucher({ account: payer(), chainId: 31337, escrow: chain.escrow, channelId, cumulativeAmount });

  before(async function () {
    skipUnderCoverage(this);
    chain = await startLocalChain();
    scratch = await mkdtemp(path.join(tmpdir(), "tollgate-cli-channels-"));
    await chain.mint(payer().address, 100n * USDC);
    payerEnv = { TOLLGATE_RPC_URL: chain.rpcUrl, TOLLGATE_PRIVATE_KEY: privateKeyOf(payer()) };
    payeeEnv = { TOLLGATE_RPC_URL: chain.rpcUrl, TOLLGATE_PRIVATE_KEY: privateKeyOf(payee()) };
  });

  after(async () => {
    await chain?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("opens, lists from both sides, tops up, requests the close and withdraws after the grace period", async () => {
    const opened = await runJson<{ channelId: Hex; deposit: string; payer: string; approvalTransactionHash: string | null }>(
      ["open", "--payee", payee().address, "--amount", "10.50"],
      payerEnv,
    );
    const channelId = opened.channelId;
    assert.equal(opened.deposit, "10500000");
    assert.equal(opened.payer, payer().address);
    assert.ok(opened.approvalTransactionHash, "approved exactly the deposit first");
    const onChain = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId });
    assert.equal(onChain?.deposit, 10_500_000n);

    // The payer's view, the payee's view (no key needed), and the key's own view in human form.
    const [asPayer, asPayee, mine] = await Promise.all([
      runJson<{ channels: ChannelJson[] }>(["channels", "--payer", payer().address], { TOLLGATE_RPC_URL: chain.rpcUrl }),
      runJson<{ channels: ChannelJson[] }>(["channels", "--payee", payee().address, "--rpc-url", chain.rpcUrl], {}),
      run(["channels"], payerEnv),
    ]);
    assert.deepEqual(asPayer.channels.map((channel) => channel.channelId), [channelId]);
    assert.deepEqual(asPayee.channels.map((channel) => channel.channelId), [channelId]);
    assert.equal(asPayee.channels[0]!.status, "open");
    assert.equal(asPayee.channels[0]!.deposit, "10500000");
    assert.equal(mine.code, 0, mine.stderr);
    assert.match(mine.stdout, new RegExp(`${channelId}\\s+open\\s+payer\\s+${payee().address}\\s+10\\.5 USDC\\s+0 USDC`));
    const others = await runJson<{ channels: ChannelJson[] }>(["channels", "--payer", chain.account(7).address], { TOLLGATE_RPC_URL: chain.rpcUrl });
    assert.deepEqual(others.channels, []);

    const toppedUp = await runJson<{ deposit: string; amount: string }>(["top-up", channelId, "--amount", "1.5"], payerEnv);
    assert.deepEqual([toppedUp.amount, toppedUp.deposit], ["1500000", "12000000"]);

    const requested = await runJson<{ withdrawableAt: string; gracePeriodSeconds: string }>(["request-close", channelId], payerEnv);
    assert.equal(requested.gracePeriodSeconds, "900");
    const inspected = await runJson<{ channel: ChannelJson }>(["channels", channelId], payerEnv);
    assert.equal(inspected.channel.status, "closing");
    assert.equal(inspected.channel.withdrawableAt, requested.withdrawableAt);

    // Too early: the escrow reverts, the CLI says which error and exits 3.
    const early = await run(["withdraw", channelId], payerEnv);
    assert.equal(early.code, 3);
    // test_cli_times_printedAsDates: the revert's times are dates for a human, unix seconds under --json.
    assert.match(early.stderr, /CloseNotReady\(readyAt: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z, timestamp: \d{4}-\d\d-\d\dT[0-9:.]+Z\)/);
    const earlyJson = await runJson<{ error: { args: string[] } }>(["withdraw", channelId], payerEnv, 3);
    assert.match(earlyJson.error.args[0]!, /^\d+$/);
    assert.doesNotMatch(early.stderr, /\n\s+at /, "no stack trace");
    const twice = await runJson<{ error: { errorName: string; kind: string } }>(["request-close", channelId], payerEnv, 3);
    assert.deepEqual([twice.error.kind, twice.error.errorName], ["reverted", "CloseAlreadyRequested"]);

    await chain.increaseTime(901);
    const before = await chain.balanceOf(payer().address);
    const withdrawn = await runJson<{ refund: string }>(["withdraw", channelId], payerEnv);
    assert.equal(withdrawn.refund, "12000000");
    assert.equal(await chain.balanceOf(payer().address), before + 12n * USDC);
    const finalized = await runJson<{ channel: ChannelJson }>(["channels", channelId, "--rpc-url", chain.rpcUrl], {});
    assert.equal(finalized.channel.status, "finalized");
  });

  it("closes as the payee with a voucher file, with --amount and --signature, and by forfeiting", async () => {
    const [viaFile, viaFlags, forfeited] = [await open("5"), await open("4"), await open("3")];
    const payeeBefore = await chain.balanceOf(payee().address);
    const payerBefore = await chain.balanceOf(payer().address);

    const file = path.join(scratch, "voucher.json");
    await writeFile(file, JSON.stringify({ channelId: viaFile, cumulativeAmount: "2000000", signature: await voucher(viaFile, 2n * USDC) }));
    const closed = await runJson<{ paidToPayee: string; refundedToPayer: string; voucherSource: string }>(["close", "--voucher", file], payeeEnv);
    assert.deepEqual([closed.voucherSource, closed.paidToPayee, closed.refundedToPayer], ["voucher", "2000000", "3000000"]);

    const human = await run(["close", viaFlags, "--amount", "1.25", "--signature", await voucher(viaFlags, 1_250_000n)], payeeEnv);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /paid to payee:\s+1\.25 USDC/);
    assert.match(human.stdout, /refunded to payer:\s+2\.75 USDC/);

    const forfeit = await runJson<{ paidToPayee: string; refundedToPayer: string }>(["close", forfeited, "--forfeit"], payeeEnv);
    assert.deepEqual([forfeit.paidToPayee, forfeit.refundedToPayer], ["0", "3000000"]);

    assert.equal(await chain.balanceOf(payee().address), payeeBefore + 3_250_000n);
    assert.equal(await chain.balanceOf(payer().address), payerBefore + 3_000_000n + 2_750_000n + 3_000_000n);
  });

  it("closes with the highest voucher the seller's store accepted, and shows the store's accounting", async () => {
    const channelId = await open("2");
    const db = path.join(scratch, "seller.db");
    const store = createSqliteStore({ path: db });
    const now = Date.now();
    await store.withChannel(channelId, async (tx) => {
      await tx.putChannel({
        channelId,
        chainId: 31337,
        escrow: chain.escrow,
        payer: payer().address,
        payee: payee().address,
        token: chain.token,
        authorizedSigner: "0x0000000000000000000000000000000000000000",
        deposit: 2n * USDC,
        settledOnChain: 0n,
        acceptedCumulative: 700_000n,
        acceptedSignature: await voucher(channelId, 700_000n),
        spent: 650_000n,
        reserved: 50_000n,
        units: 65n,
        closeRequestedAt: 0n,
        status: "open",
        lastTxHash: null,
        createdAt: now,
        updatedAt: now,
      });
    });
    await store.close();

    const inspected = await run(["channels", channelId, "--db", db], payeeEnv);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.match(inspected.stdout, /accepted voucher:\s+0\.7 USDC \(0\.7 USDC not settled on-chain\)/);
    assert.match(inspected.stdout, /spent:\s+0\.65 USDC/);
    assert.match(inspected.stdout, /units:\s+65/);
    const listed = await runJson<{ channels: (ChannelJson & { store: { acceptedCumulative: string } | null })[] }>(
      ["channels", "--payee", payee().address, "--db", db],
      payeeEnv,
    );
    const entry = listed.channels.find((channel) => channel.channelId === channelId)!;
    assert.equal(entry.store?.acceptedCumulative, "700000");
    assert.ok(listed.channels.filter((channel) => channel.channelId !== channelId).every((channel) => channel.store === null));

    const closed = await runJson<{ voucherSource: string; paidToPayee: string; refundedToPayer: string }>(["close", channelId, "--db", db], payeeEnv);
    assert.deepEqual([closed.voucherSource, closed.paidToPayee, closed.refundedToPayer], ["db", "700000", "1300000"]);
  });

  it("exits 2 for bad amounts and vouchers, 5 for unknown channels and 3 for reverts, naming the error", async () => {
    const channelId = await open("1");
    const file = path.join(scratch, "other.json");
    await writeFile(file, JSON.stringify({ channelId: UNKNOWN_CHANNEL, cumulativeAmount: "1", signature: "0x" }));
    const results = await Promise.all([
      run(["top-up", channelId, "--amount", "1.0000001"], payerEnv),
      run(["top-up", channelId, "--amount", "1,5"], payerEnv),
      run(["open", "--payee", payee().address, "--amount", "-1"], payerEnv),
      run(["open", "--payee", payee().address, "--amount", "0"], payerEnv),
      run(["open", "--payee", "0x1234", "--amount", "1"], payerEnv),
      run(["open", "--payee", payee().address, "--amount", "1000000"], payerEnv),
      run(["close", channelId, "--voucher", file], payeeEnv),
      run(["close", channelId], payeeEnv),
      run(["channels", "0x1234"], payerEnv),
    ]);
    for (const result of results) assert.equal(result.code, 2, result.stderr);
    assert.match(results[0]!.stderr, /--amount: More than 6 fractional digits/);
    assert.match(results[5]!.stderr, /more than the payer's balance of 95\.05 USDC/);
    assert.match(results[6]!.stderr, /is for channel 0x0+1, not/);

    const unknown = await Promise.all([
      runJson<{ error: { kind: string } }>(["channels", UNKNOWN_CHANNEL], payerEnv, 5),
      run(["top-up", UNKNOWN_CHANNEL, "--amount", "1"], payerEnv),
      run(["request-close", UNKNOWN_CHANNEL], payerEnv),
      run(["close", UNKNOWN_CHANNEL, "--forfeit"], payeeEnv),
    ]);
    assert.equal(unknown[0].error.kind, "not-found");
    for (const result of unknown.slice(1) as { code: number | null; stderr: string }[]) {
      assert.equal(result.code, 5, result.stderr);
      assert.match(result.stderr, /channel 0x0+1 not found/);
    }

    // The payer cannot close, a tampered voucher does not verify, the payee cannot withdraw.
    const [notPayee, tampered, notPayer] = await Promise.all([
      runJson<{ error: { errorName: string } }>(["close", channelId, "--forfeit"], payerEnv, 3),
      runJson<{ error: { errorName: string } }>(["close", channelId, "--amount", "0.9", "--signature", await voucher(channelId, 500_000n)], payeeEnv, 3),
      run(["withdraw", channelId], payeeEnv),
    ]);
    assert.equal(notPayee.error.errorName, "NotPayee");
    assert.equal(tampered.error.errorName, "InvalidSignature");
    assert.equal(notPayer.code, 3);
    assert.match(notPayer.stderr, /NotPayer\(caller: 0x[0-9a-fA-F]{40}, payer: 0x[0-9a-fA-F]{40}\)/);
  });

  it("test_cli_finalizedChannel_showsNothingUnsettled_andCloseSaysSoWithoutSending", async () => {
    const channelId = await open("2");
    const closed = await runJson<{ refundedToPayer: string }>(["close", channelId, "--forfeit"], payeeEnv);
    assert.equal(closed.refundedToPayer, "2000000");

    // Everything was paid out or refunded: nothing is left unsettled in the escrow.
    const inspected = await runJson<{ channel: ChannelJson }>(["channels", channelId], payerEnv);
    assert.deepEqual([inspected.channel.status, inspected.channel.unsettled], ["finalized", "0"]);
    const human = await run(["channels", channelId], payerEnv);
    assert.match(human.stdout, /unsettled:\s+0 USDC/);
    const listed = await runJson<{ channels: ChannelJson[] }>(["channels", "--payer", payer().address], payerEnv);
    assert.equal(listed.channels.find((channel) => channel.channelId === channelId)?.unsettled, "0");

    // A second close says the channel is finalized before anything is signed or sent.
    const nonce = await chain.publicClient.getTransactionCount({ address: payee().address });
    const again = await run(["close", channelId, "--forfeit"], payeeEnv);
    assert.equal(again.code, 3, again.stderr);
    assert.match(again.stderr, /already finalized/);
    assert.doesNotMatch(again.stderr, /closing .* goes back to the payer/, "no progress line announcing a close");
    const asJson = await runJson<{ error: { kind: string; errorName: string } }>(["close", channelId, "--forfeit"], payeeEnv, 3);
    assert.deepEqual([asJson.error.kind, asJson.error.errorName], ["reverted", "ChannelFinalized"]);
    assert.equal(await chain.publicClient.getTransactionCount({ address: payee().address }), nonce, "no transaction sent");
  });

  it("test_cli_amounts_negativeOrMalformed_areUsageErrorsThatSaySo", async () => {
    const channelId = await open("1");
    const cases: [string[], RegExp][] = [
      [["open", "--payee", payee().address, "--amount", "-1"], /--amount: .*negative/],
      [["open", "--payee", payee().address, "--amount=-0.5"], /--amount: .*negative/],
      [["top-up", channelId, "--amount", "-2"], /--amount: .*negative/],
      [["close", channelId, "--amount", "-1", "--signature", "0x00"], /--amount: .*negative/],
      [["top-up", channelId, "--amount", "1e3"], /--amount: expected a decimal amount/],
      [["top-up", channelId, "--amount", ".5"], /--amount: expected a decimal amount/],
      [["top-up", channelId, "--amount", ""], /--amount: expected a decimal amount/],
    ];
    for (const [args, message] of cases) {
      const result = await run(args, args[0] === "close" ? payeeEnv : payerEnv);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(" "));
      assert.doesNotMatch(result.stderr, /ambiguous/, "not node's parser message about a missing option argument");
    }
  });

  it("exits 6 with the transaction hash when no receipt arrives within --timeout", async () => {
    const channelId = await open("1");
    await chain.publicClient.request({ method: "evm_setAutomine" as never, params: [false] as never });
    try {
      const pending = await runJson<{ error: { kind: string; transactionHash: Hex } }>(["request-close", channelId, "--timeout", "1"], payerEnv, 6);
      assert.equal(pending.error.kind, "outcome-unknown");
      assert.match(pending.error.transactionHash, /^0x[0-9a-f]{64}$/);
      await chain.publicClient.request({ method: "evm_mine" as never, params: [] as never });
      const receipt = await chain.publicClient.getTransactionReceipt({ hash: pending.error.transactionHash });
      assert.equal(receipt.status, "success", "the transaction was sent and mines later");
    } finally {
      await chain.publicClient.request({ method: "evm_setAutomine" as never, params: [true] as never });
    }
    const inspected = await runJson<{ channel: ChannelJson }>(["channels", channelId], payerEnv);
    assert.equal(inspected.channel.status, "closing");
  });

  it("never prints the private keys", () => {
    const secrets = [privateKeyOf(payer()), privateKeyOf(payee())].map((key) => key.slice(2).toLowerCase());
    for (const text of outputs) for (const secret of secrets) assert.ok(!text.toLowerCase().includes(secret));
    assert.ok(outputs.length > 20);
  });
});
