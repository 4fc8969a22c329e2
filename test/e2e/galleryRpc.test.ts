// The demo wallet's JSON-RPC pass-through (the gallery's POST /rpc) as a hostile page would use it: the
// node behind it holds every test account unlocked, the deployer's and the seller's included, so the
// pass-through must answer as the page's account alone, for the escrow and the token alone, and refuse
// the node's test methods and blind signatures. Also: what /config.json and /tx/<hash> give away.
import assert from "node:assert/strict";
import { type Hex, recoverTypedDataAddress, zeroAddress } from "viem";
import { BROWSER_BUYER, type Demo, SELLER, startDemo } from "../../scripts/demo/startDemo.js";

type RpcReply = { id: unknown; result?: unknown; error?: { code: number; message: string } };

describe("e2e: the gallery's JSON-RPC pass-through and page config", function () {
  this.timeout(120_000);
  let demo: Demo;
  let buyer: Hex;
  let seller: Hex;
  let id = 0;

  const post = (body: string) => fetch(`${demo.gallery.url}/rpc`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const rpc = async (method: string, params: unknown[] = []) => (await (await post(JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }))).json()) as RpcReply;
  const typedData = (verifyingContract: Hex) => ({
    types: { EIP712Domain: [{ name: "name", type: "string" }, { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" }], Note: [{ name: "text", type: "string" }] },
    primaryType: "Note" as const,
    domain: { name: "Demo", chainId: demo.chain.chain.id, verifyingContract },
    message: { text: "hello" },
  });

  before(async () => {
    demo = await startDemo({ fund: [BROWSER_BUYER] });
    buyer = demo.chain.account(BROWSER_BUYER).address;
    seller = demo.chain.account(SELLER).address;
  });
  after(() => demo?.stop());

  it("test_rpcPassThrough_refusesTheNodesTestMethodsAndBlindSignatures", async () => {
    const block = await demo.chain.publicClient.getBlockNumber();
    const balance = await demo.chain.publicClient.getBalance({ address: buyer });
    const refused = [
      ["hardhat_setBalance", [buyer, "0x1"]],
      ["hardhat_impersonateAccount", [seller]],
      ["hardhat_mine", []],
      ["evm_mine", []],
      ["evm_increaseTime", [3600]],
      ["anvil_setBalance", [buyer, "0x1"]],
      ["eth_sign", [buyer, `0x${"ab".repeat(32)}`]],
      ["personal_sign", ["0x68656c6c6f", buyer]],
      ["eth_signTransaction", [{ from: buyer, to: demo.chain.token }]],
      ["debug_traceTransaction", [`0x${"00".repeat(32)}`]],
    ] as const;
    for (const [method, params] of refused) {
      const reply = await rpc(method, [...params]);
      assert.equal(reply.error?.code, 4200, `${method} refused as unsupported`);
      assert.equal(reply.result, undefined);
    }
    assert.equal(await demo.chain.publicClient.getBlockNumber(), block, "nothing mined");
    assert.equal(await demo.chain.publicClient.getBalance({ address: buyer }), balance, "no balance set");
  });

  it("test_rpcPassThrough_answersAndActsOnlyAsThePagesAccount_forTheEscrowAndTheToken", async () => {
    // The node holds twenty accounts unlocked; the page sees one.
    assert.deepEqual((await rpc("eth_accounts")).result, [buyer]);
    assert.deepEqual((await rpc("eth_requestAccounts")).result, [buyer]);
    const block = await demo.chain.publicClient.getBlockNumber();
    const approve = `0x095ea7b3${seller.slice(2).padStart(64, "0")}${"ff".repeat(32)}`;
    const unauthorized = [
      ["eth_sendTransaction", [{ from: seller, to: demo.chain.token, data: approve }]],
      ["eth_sendTransaction", [{ to: demo.chain.token, data: approve }]],
      ["eth_sendTransaction", [{ from: buyer, to: zeroAddress, data: "0x" }]],
      ["eth_sendTransaction", [{ from: buyer, to: demo.chain.escrow, value: "0x1" }]],
      ["eth_signTypedData_v4", [seller, JSON.stringify(typedData(demo.chain.token))]],
      ["eth_signTypedData_v4", [buyer, JSON.stringify(typedData(zeroAddress))]],
    ] as const;
    for (const [method, params] of unauthorized) assert.equal((await rpc(method, [...params])).error?.code, 4100, `${method} ${JSON.stringify(params)}`);
    assert.equal(await demo.chain.publicClient.getBlockNumber(), block, "nothing mined");

    // What the page may do, the node does: it signs as the page's account.
    const signed = await rpc("eth_signTypedData_v4", [buyer, JSON.stringify(typedData(demo.chain.token))]);
    const { types: { EIP712Domain: _domain, ...types }, ...rest } = typedData(demo.chain.token);
    assert.equal(await recoverTypedDataAddress({ ...rest, types, signature: signed.result as Hex }), buyer);
    const sent = await rpc("eth_sendTransaction", [{ from: buyer, to: demo.chain.token, data: approve }]);
    const receipt = await demo.chain.publicClient.waitForTransactionReceipt({ hash: sent.result as Hex });
    assert.deepEqual([receipt.status, receipt.from], ["success", buyer.toLowerCase()]);
  });

  it("test_rpcPassThrough_badInputAndOtherSites_getJsonRpcErrors_notACrash", async () => {
    const notJson = await post("{");
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as RpcReply).error?.code, -32700);
    const tooLarge = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: ["x".repeat(70_000)] }));
    assert.equal(tooLarge.status, 413);
    assert.equal((await (await post(JSON.stringify({ jsonrpc: "2.0", method: "eth_chainId" }))).json() as RpcReply).error?.code, -32600, "a notification (no id)");
    assert.equal((await (await post("42")).json() as RpcReply).error?.code, -32600);
    assert.equal((await rpc("eth_sendTransaction", [{ from: buyer, to: demo.chain.token, value: "lots" }])).error?.code, -32602);
    assert.equal((await rpc("eth_signTypedData_v4", [buyer, "{not json"])).error?.code, -32602);
    // A batch is answered call by call.
    const batch = (await (await post(JSON.stringify([{ jsonrpc: "2.0", id: 7, method: "eth_chainId" }, { jsonrpc: "2.0", id: 8, method: "hardhat_mine" }]))).json()) as RpcReply[];
    assert.deepEqual(batch.map(({ id, result, error }) => [id, result, error?.code]), [[7, "0x7a69", undefined], [8, undefined, 4200]]);
    // Another site open in the browser: refused whatever it sends, and a body a cross-site form could send too.
    const crossSite = await fetch(`${demo.gallery.url}/rpc`, { method: "POST", headers: { "content-type": "application/json", origin: "http://evil.example" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_accounts" }) });
    assert.deepEqual([crossSite.status, ((await crossSite.json()) as RpcReply).error?.code], [403, 4100]);
    const form = await fetch(`${demo.gallery.url}/rpc`, { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_accounts" }) });
    assert.equal(form.status, 415);
    const sameSite = await fetch(`${demo.gallery.url}/rpc`, { method: "POST", headers: { "content-type": "application/json", origin: demo.gallery.url }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }) });
    assert.equal(((await sameSite.json()) as RpcReply).result, "0x7a69");
    // The server still answers.
    assert.equal((await rpc("eth_chainId")).result, "0x7a69");
  });

  it("test_galleryConfig_carriesNoKey_andTheExplorerAnswersProblemsForBadHashes", async () => {
    const config = (await (await fetch(`${demo.gallery.url}/config.json`)).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(config).sort(), ["chainId", "currency", "escrow", "photoPath", "price"]);
    for (const value of Object.values(config)) assert.doesNotMatch(String(value), /^0x[0-9a-f]{64}$/i, "no 32-byte secret");

    const malformed = await fetch(`${demo.gallery.url}/tx/0x1234`);
    assert.deepEqual([malformed.status, malformed.headers.get("content-type")], [400, "application/problem+json"]);
    const unknown = await fetch(`${demo.gallery.url}/tx/0x${"00".repeat(32)}`);
    assert.deepEqual([unknown.status, ((await unknown.json()) as { status: number }).status], [404, 404]);
  });
});
