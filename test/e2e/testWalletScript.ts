// A browser wallet for the gallery page's tests, injected before the page's scripts run.

/**
 * Runs in the page before its scripts: a wallet backed by the demo's /rpc (the same unlocked account) that,
 * like a browser wallet, shows no account until asked (`eth_requestAccounts`) and tags its requests.
 * Injected as `window.ethereum`, or announced over EIP-6963 beside a decoy `window.ethereum`. Plain
 * JavaScript source: a compiled function would carry the test loader's helpers into the page.
 */
export function testWalletScript(kind: "window.ethereum" | "EIP-6963"): string {
  return `
    const calls = (window.injectedCalls = []);
    const decoyCalls = (window.decoyCalls = []);
    let connected = false;
    let id = 0;
    const provider = {
      async request({ method, params }) {
        calls.push(method);
        if (method === "eth_accounts" && !connected) return [];
        const response = await fetch("/rpc", {
          method: "POST",
          headers: { "content-type": "application/json", "x-test-wallet": "injected" },
          body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
        });
        const body = await response.json();
        if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
        if (method === "eth_requestAccounts") connected = true;
        return body.result;
      },
      on() { return provider; },
      removeListener() { return provider; },
    };
    if (${JSON.stringify(kind)} === "window.ethereum") {
      window.ethereum = provider;
    } else {
      window.ethereum = { async request({ method }) { decoyCalls.push(method); }, on() {}, removeListener() {} };
      const info = { uuid: "2f5b2a3c-0d5e-4a8b-9c1e-7f3a6b9d4e21", name: "Test wallet (EIP-6963)", icon: "data:image/svg+xml,<svg/>", rdns: "dev.tollgate.test" };
      window.addEventListener("eip6963:requestProvider", () =>
        window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) })),
      );
    }`;
}
