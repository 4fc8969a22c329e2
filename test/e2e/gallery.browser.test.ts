// The gallery page in a real headless Chromium (Debian's package, driven by playwright-core): buy three
// photos by clicking, watch the channel's balance on the page, close, and check the chain agrees.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { BROWSER_BUYER, type Demo, startDemo } from "../../scripts/demo/startDemo.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = "test-output/gallery.png";

describe("e2e: the gallery page in headless Chromium", function () {
  this.timeout(180_000);
  let demo: Demo;
  let browser: Browser;

  before(async function () {
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: .ci/run installs Debian's chromium package`);
    demo = await startDemo({ fund: [BROWSER_BUYER] });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Root in a sandboxed machine; no background traffic, since only loopback is reachable.
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });

  after(async function () {
    await browser?.close();
    await demo?.stop();
  });

  it("test_galleryPage_buysPhotosPerClickShowsTheBalanceAndCloses", async function () {
    const buyer = demo.chain.account(BROWSER_BUYER).address;
    const buyerBefore = await demo.chain.balanceOf(buyer);
    const sellerBefore = await demo.chain.balanceOf(demo.seller.address);
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${demo.gallery.url}/`);
    await page.getByTestId("status").filter({ hasText: "Ready" }).waitFor();

    for (let photo = 1; photo <= 3; photo++) {
      await page.getByTestId("buy").click();
      await page.getByTestId("status").filter({ hasText: `Bought photo #${photo}` }).waitFor({ timeout: 60_000 });
    }
    assert.equal(await page.locator("#photos figure").count(), 3);
    assert.equal(await page.getByTestId("spent").textContent(), "$0.03");
    assert.equal(await page.getByTestId("deposit").textContent(), "$1");
    assert.equal(await page.getByTestId("remaining").textContent(), "$0.97");
    mkdirSync("test-output", { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.getByTestId("close").click();
    await page.getByTestId("status").filter({ hasText: "Closed" }).waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId("state").textContent(), "closed");
    assert.deepEqual(errors, []);
    assert.equal(await demo.chain.balanceOf(demo.seller.address), sellerBefore + 30_000n);
    assert.equal(await demo.chain.balanceOf(buyer), buyerBefore - 30_000n);
    console.log(`      screenshot: ${SCREENSHOT}`);
  });
});
