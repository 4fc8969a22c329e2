// How often the gate and the client poll for receipts when not told: at the chain's block time, not viem's 4 s.
import assert from "node:assert/strict";
import { defineChain } from "viem";
import { base, baseSepolia, mainnet } from "viem/chains";
import { defaultPollingInterval } from "../../sdk/src/transactions/defaultPollingInterval.js";

const chain = (id: number, blockTime?: number) =>
  defineChain({ id, name: "test", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [] } }, ...(blockTime === undefined ? {} : { blockTime }) });

describe("defaultPollingInterval", function () {
  it("polls Base's 2-second blocks every second, half a block", function () {
    assert.equal(defaultPollingInterval(base), 1_000);
    assert.equal(defaultPollingInterval(baseSepolia), 1_000);
  });
  it("polls a local chain every 100 ms, whatever its stated block time", function () {
    assert.equal(defaultPollingInterval(chain(31337)), 100);
    assert.equal(defaultPollingInterval(chain(31337, 12_000)), 100);
  });
  it("polls a chain without a stated block time every second, not viem's 4 s", function () {
    assert.equal(defaultPollingInterval(chain(4_242)), 1_000);
  });
  it("keeps half the block time between 250 ms and 4 s", function () {
    assert.equal(defaultPollingInterval(chain(4_242, 200)), 250);
    assert.equal(defaultPollingInterval(mainnet), 4_000);
  });
});
