// npm run demo            — a paid photo gallery on a local chain, bought from through a session, then with
//                           x402 `exact`, the two compared (transactions, gas, wall time)
// npm run demo -- --serve — the chain and the gallery only, kept running; prints one JSON line (with the offers)
// Add --picsum to hand out Picsum photo URLs instead of locally generated images (needs the internet).
import { formatUnits, http } from "viem";
import { createPayingFetch } from "../sdk/src/client/index.js";
import { parseReceipt } from "../sdk/src/protocol/receipt.js";
import { buyWithX402 } from "./demo/buyWithX402.js";
import { fetchOffers } from "./demo/fetchOffers.js";
import { functionName } from "./demo/functionName.js";
import { PHOTO_PRICE } from "./demo/gallery.js";
import { measurePurchases, type MinedTransaction } from "./demo/minedTransactions.js";
import { BROWSER_BUYER, BUYER, startDemo, USDC } from "./demo/startDemo.js";
import { onParentExit } from "./onParentExit.mjs";

const serve = process.argv.includes("--serve");
const photos = process.argv.includes("--picsum") ? "picsum" : "local";
const PHOTOS_TO_BUY = 5;

const usd = (amount: bigint) => `$${formatUnits(amount, 6)}`;
const log = (line = "") => {
  if (!serve) console.log(line);
};

log("tollgate demo: a photo gallery that charges $0.01 per photo, through a payment channel or one payment per photo\n");
const demo = await startDemo({
  fund: serve ? [2, 3, 4, 5, 6, 7, 8, 9] : [BUYER, BROWSER_BUYER],
  photos,
  onStep: (step) => log(`• ${step}`),
});
const { chain, gallery, seller, photoUrl, database } = demo;
const buyer = chain.account(BUYER);
log(`  chain ${chain.chain.id} at ${chain.rpcUrl}`);
log(`  escrow ${chain.escrow}`);
log(`  mock USDC ${chain.token}`);
log(`  the seller's database: ${database} (removed when the demo exits)`);

// Interrupted, stopped or orphaned (its parent killed, even by SIGKILL), the demo stops its chain and
// removes its temporary files before it exits. The handlers stay: a signal to the process group reaches
// the demo twice (directly and relayed by tsx's wrapper), and the second must not cut the shutdown short.
const shutdown = async () => {
  await demo.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
onParentExit(shutdown);

// The offers are read from a real unpaid request's 402, as a client sees them.
const offers = await fetchOffers({ url: photoUrl });
if (serve) {
  console.log(
    JSON.stringify({
      url: photoUrl,
      page: `${gallery.url}/`,
      rpcUrl: chain.rpcUrl,
      chainId: chain.chain.id,
      escrow: chain.escrow,
      currency: chain.token,
      recipient: seller.address,
      database,
      offers,
    }),
  );
} else {
  try {
    await buyPhotos();
  } finally {
    await demo.stop();
  }
}

async function buyPhotos() {
  log(`• Gallery API at ${photoUrl} (web page: ${gallery.url}/)`);
  log(`  an unpaid request gets a ${offers.status} offering: session ${usd(BigInt(String(offers.session?.amount)))}/photo, ` +
    `charge ${usd(BigInt(String(offers.charge?.amount)))}, x402 v2 ${usd(BigInt(String(offers.x402v2?.amount)))}, x402 v1 ${usd(BigInt(String(offers.x402v1?.maxAmountRequired)))}`);
  const before = { seller: await chain.balanceOf(seller.address), buyer: await chain.balanceOf(buyer.address) };
  log(`  seller ${seller.address} holds ${usd(before.seller)}, buyer ${buyer.address} holds ${usd(before.buyer)}\n`);

  const session = await measurePurchases(chain.publicClient, buyWithSession);
  log(`\n• On-chain transactions of the whole session (none per photo):`);
  for (const line of describeTransactions(session.transactions)) log(`  ${line}`);
  const afterSession = { seller: await chain.balanceOf(seller.address), buyer: await chain.balanceOf(buyer.address) };

  log(`\n• The same again with x402 \`exact\` (the real @x402/fetch + @x402/evm client): one signed transfer per photo,`);
  log(`  each settled on-chain by the seller before the photo is served…`);
  const oneTime = await measurePurchases(chain.publicClient, () =>
    buyWithX402({ account: buyer, chainId: chain.chain.id, currency: chain.token, maxPrice: PHOTO_PRICE, url: photoUrl, count: PHOTOS_TO_BUY }),
  );
  for (const { photo, transaction } of oneTime.result) log(`  photo #${photo.id} ${JSON.stringify(photo.title).padEnd(18)} settled in ${transaction}`);
  log(`\n• On-chain transactions of the x402 purchases (one per photo):`);
  for (const line of describeTransactions(oneTime.transactions)) log(`  ${line}`);

  log(`\n• Side by side, ${PHOTOS_TO_BUY} photos each`);
  log(`  ${"".padEnd(14)}${"session".padStart(12)}${"x402 exact".padStart(14)}`);
  log(`  ${"transactions".padEnd(14)}${String(session.transactions.length).padStart(12)}${String(oneTime.transactions.length).padStart(14)}`);
  log(`  ${"gas".padEnd(14)}${session.gas.toLocaleString("en-US").padStart(12)}${oneTime.gas.toLocaleString("en-US").padStart(14)}`);
  log(`  ${"wall time".padEnd(14)}${`${(session.wallMs / 1000).toFixed(2)} s`.padStart(12)}${`${(oneTime.wallMs / 1000).toFixed(2)} s`.padStart(14)}`);

  const after = { seller: await chain.balanceOf(seller.address), buyer: await chain.balanceOf(buyer.address) };
  log(`\n• Balances`);
  log(`  seller ${usd(before.seller)} → ${usd(afterSession.seller)} (session +${usd(afterSession.seller - before.seller)}) → ${usd(after.seller)} (x402 +${usd(after.seller - afterSession.seller)})`);
  log(`  buyer  ${usd(before.buyer)} → ${usd(afterSession.buyer)} (session −${usd(before.buyer - afterSession.buyer)}; the refund of ${usd(session.result.refund)} came back) → ${usd(after.buyer)} (x402 −${usd(afterSession.buyer - after.buyer)})`);
}

/** Opens a channel, buys PHOTOS_TO_BUY photos with vouchers and closes it; the close's outcome. */
async function buyWithSession() {
  let announced = false;
  const pay = createPayingFetch({
    account: buyer,
    chain: chain.chain,
    transport: http(chain.rpcUrl),
    maxDeposit: 5n * USDC,
    escrows: [chain.escrow],
    onChannelUpdate(channel) {
      if (announced) return;
      announced = true;
      log(`• The first request got a 402 challenge; opening channel ${channel.channelId}`);
      log(`  with a deposit of ${usd(channel.deposit)} (approve + open on-chain, waiting for the receipts…)`);
    },
  });

  for (let i = 1; i <= PHOTOS_TO_BUY; i++) {
    const response = await pay(photoUrl);
    if (!response.ok) throw new Error(`photo request failed: ${response.status} ${await response.text()}`);
    const photo = (await response.json()) as { id: number; title: string };
    const receipt = parseReceipt(response.headers.get("payment-receipt")!);
    const [channel] = await pay.channels();
    log(
      `  photo #${photo.id} ${JSON.stringify(photo.title).padEnd(18)} voucher for ${usd(channel!.cumulativeAmount)} cumulative; ` +
        `receipt: ${usd(BigInt(String(receipt.spent)))} spent of ${usd(BigInt(String(receipt.acceptedCumulative)))} accepted`,
    );
  }

  log(`\n• Closing: the seller settles the last voucher on-chain and the escrow refunds the rest…`);
  const closed = await pay.close({ url: photoUrl });
  log(`  settled ${usd(closed.settled)} to the seller, refunded ${usd(closed.refund)} to the buyer (tx ${closed.txHash})`);
  return closed;
}

/** One line per transaction, named by the escrow or token function it called. */
function describeTransactions(transactions: MinedTransaction[]): string[] {
  const names = new Map<string, string>([
    [seller.address.toLowerCase(), "seller"],
    [buyer.address.toLowerCase(), "buyer"],
  ]);
  return transactions.map(
    ({ hash, from, input, gasUsed }) =>
      `${(functionName(input) ?? "call").padEnd(8)} by the ${names.get(from.toLowerCase()) ?? from}, ${gasUsed.toLocaleString("en-US")} gas  ${hash}`,
  );
}
