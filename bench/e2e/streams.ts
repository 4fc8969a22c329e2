// The stream section of bench:e2e (issue 11): metered SSE streams of 1,000 tokens bought by tollgate's
// paying client from a gate's `meteredEventStream` (SQLite store, node:http on 127.0.0.1, its own local
// hardhat node), with prepay windows of 1 unit (one `payment-need-voucher` and one HEAD voucher per
// token: the behaviour before the window) and 10 (the default) and 100 units. Per window: tokens per
// second and the asks and HEAD vouchers per 1,000 tokens, for a source as fast as the gate charges and
// for one paced like a model (a token every 5 ms). Writes bench/results/e2e-stream.json.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { join } from "node:path";
import { http } from "viem";
import { startLocalChain, type LocalChain } from "../../scripts/localChain.js";
import { createPayingFetch } from "../../sdk/src/client/index.js";
import { createPaymentGate, meteredEventStream } from "../../sdk/src/server/index.js";
import { toNodeHandler } from "../../sdk/src/server/node.js";
import { createSqliteStore } from "../../sdk/src/server/sqlite.js";
import { writeResults } from "./writeResults.js";

const TOKEN_PRICE = 1_000n; // $0.001 per token in 6-decimal mock USDC
const TOKENS = 1_000;
const STREAMS = 3;
/** Every buyer's one deposit: the measured streams never wait for a top-up. */
const DEPOSIT = BigInt(TOKENS * STREAMS + 100) * TOKEN_PRICE;
const SCENARIOS = [
  { source: "unpaced", tokenMs: 0, windows: [1n, 10n, 100n] },
  { source: "a token every 5 ms", tokenMs: 5, windows: [1n, 10n] },
];
const SELLER = 1;
/** Test accounts of the buyers: this section runs on its own chain, so they need not avoid other sections'. */
const FIRST_BUYER = 2;

/** Runs the stream section and writes its results. */
export async function benchStreams(): Promise<void> {
  const startedAt = Date.now();
  const chain = await startLocalChain();
  const seller = await startStreamGate(chain);
  const rows = [];
  let nextBuyer = FIRST_BUYER;
  try {
    for (const { source, tokenMs, windows } of SCENARIOS) for (const prepayUnits of windows) {
      rows.push({ source, prepayUnits: Number(prepayUnits), ...(await measureWindow({ chain, url: `${seller.url}?tokenMs=${tokenMs}`, prepayUnits, buyer: nextBuyer++ })) });
    }
  } finally {
    await seller.stop();
    await chain.stop();
  }
  console.table(rows);
  await writeResults({
    file: "e2e-stream.json",
    description:
      `Metered SSE streams of ${TOKENS} tokens (meteredEventStream, SQLite store, node:http on 127.0.0.1, local hardhat node), bought by createPayingFetch ` +
      `with the given prepayUnits; per window one fresh buyer opens its channel on a 1-token stream, then ${STREAMS} streams one after another are measured ` +
      "and the channel is closed (the buyer must have paid exactly the tokens delivered). tokensPerSecond: tokens over the streams' wall time " +
      "(median stream and all streams); needVoucherPer1000 / headVouchersPer1000: payment-need-voucher events the streams carried and HEAD voucher " +
      "requests the client sent, per 1,000 tokens. prepayUnits 1 is the behaviour before the window (one ask and one voucher per token after the first). " +
      "Machines shared with other work: see loadAverage.",
    setup: { tokenPrice: TOKEN_PRICE.toString(), tokensPerStream: TOKENS, streamsPerWindow: STREAMS, scenarios: SCENARIOS.map(({ source, tokenMs, windows }) => ({ source, tokenMs, windows: windows.map(Number) })) },
    startedAt,
    rows,
  });
  console.log("Wrote bench/results/e2e-stream.json");
}

async function measureWindow({ chain, url, prepayUnits, buyer }: { chain: LocalChain; url: string; prepayUnits: bigint; buyer: number }) {
  const account = chain.account(buyer);
  await chain.mint(account.address, DEPOSIT);
  const funded = await chain.balanceOf(account.address);
  let heads = 0;
  const countingFetch: typeof fetch = (input, init) => {
    if (new Request(input, init).method === "HEAD") heads++;
    return fetch(input, init);
  };
  const pay = createPayingFetch({ account, chain: chain.chain, transport: http(chain.rpcUrl), maxDeposit: DEPOSIT, escrows: [chain.escrow], prepayUnits, fetch: countingFetch });
  const stream = async (tokens: number) => {
    const response = await pay(`${url}&tokens=${tokens}`);
    const text = await response.text();
    const delivered = text.match(/^event: message$/gm)?.length ?? 0;
    if (response.status !== 200 || delivered !== tokens) throw new Error(`prepayUnits ${prepayUnits}: ${response.status}, ${delivered} of ${tokens} tokens`);
    return text.match(/^event: payment-need-voucher$/gm)?.length ?? 0;
  };
  await stream(1); // opens the channel
  heads = 0;
  let asks = 0;
  const seconds: number[] = [];
  for (let run = 0; run < STREAMS; run++) {
    const start = performance.now();
    asks += await stream(TOKENS);
    seconds.push((performance.now() - start) / 1000);
  }
  const streamed = heads;
  await pay.close({ url });
  const spent = funded - (await chain.balanceOf(account.address));
  const expected = BigInt(TOKENS * STREAMS + 1) * TOKEN_PRICE;
  if (spent !== expected) throw new Error(`prepayUnits ${prepayUnits}: the buyer paid ${spent}, expected ${expected}`);
  const median = [...seconds].sort((a, b) => a - b)[Math.floor(STREAMS / 2)]!;
  const per1000 = (count: number) => Number(((count * 1000) / (TOKENS * STREAMS)).toFixed(1));
  return {
    medianStreamSeconds: Number(median.toFixed(3)),
    tokensPerSecond: Math.round(TOKENS / median),
    tokensPerSecondAll: Math.round((TOKENS * STREAMS) / seconds.reduce((sum, s) => sum + s, 0)),
    needVoucherPer1000: per1000(asks),
    headVouchersPer1000: per1000(streamed),
    paid: spent.toString(),
  };
}

/** A gate selling `/stream?tokens=N&tokenMs=M`: N tokens metered one unit each, one every M ms. */
async function startStreamGate(chain: LocalChain) {
  const directory = mkdtempSync(join(os.tmpdir(), "tollgate-bench-stream-"));
  const store = createSqliteStore({ path: join(directory, "gate.db") });
  const gate = createPaymentGate({ chain: chain.chain, transport: http(chain.rpcUrl), escrow: chain.escrow, currency: chain.token, account: chain.account(SELLER), store, secret: crypto.randomUUID() + crypto.randomUUID() });
  const route = gate.session({ amount: TOKEN_PRICE, unitType: "llm_token", units: () => 0n, suggestedDeposit: DEPOSIT });
  const server = createServer(
    toNodeHandler((request) =>
      route.handle(request, async (incoming, payment) => {
        const query = new URL(incoming.url).searchParams;
        const tokens = Number(query.get("tokens"));
        const tokenMs = Number(query.get("tokenMs"));
        if (payment.method !== "session") return new Response(null, { status: 400 });
        return meteredEventStream({
          gate,
          payment,
          price: TOKEN_PRICE,
          signal: incoming.signal,
          pollInterval: 50,
          source: (async function* () {
            for (let token = 1; token <= tokens; token++) {
              if (tokenMs > 0) await new Promise((resolve) => setTimeout(resolve, tokenMs));
              yield `token-${token}`;
            }
          })(),
        });
      }),
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`,
    async stop() {
      server.closeAllConnections();
      server.close();
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
