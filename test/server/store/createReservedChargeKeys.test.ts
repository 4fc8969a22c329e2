import assert from "node:assert/strict";
import { createReservedChargeKeys } from "../../../sdk/src/server/store/createReservedChargeKeys.js";
import { makeCharge, newChannelId } from "./storeFixtures.js";

describe("reserved charge keys (PostgreSQL prefetch)", () => {
  it("test_store_reservedChargeKeysRemembersOpenReservationsOnlyWithinItsBounds", () => {
    // What the store reads along with a channel's lock: reservations it made and has not seen finished,
    // a few per channel and a bounded number of channels, so that a store serving many channels does
    // not grow, nor read more than a few charges per lock.
    const keys = createReservedChargeKeys({ maxChannels: 2, maxKeysPerChannel: 2 });
    const [a, b, c] = [newChannelId(), newChannelId(), newChannelId()];
    keys.record([makeCharge(a, "a1"), makeCharge(a, "a2"), makeCharge(a, "a3"), makeCharge(b, "b1", { status: "committed" })]);
    assert.deepEqual(keys.keys(a), ["a2", "a3"], "the oldest key of a channel goes first");
    assert.deepEqual(keys.keys(b), [], "only reservations are remembered");
    keys.record([makeCharge(a, "a2", { status: "committed" }), makeCharge(b, "b2")]);
    assert.deepEqual(keys.keys(a), ["a3"], "a finished reservation is forgotten");
    keys.record([makeCharge(c, "c1")]);
    assert.deepEqual([keys.keys(a), keys.keys(b), keys.keys(c)], [[], ["b2"], ["c1"]], "the least recently written channel goes first");
    keys.forget(c, "c1");
    assert.deepEqual(keys.keys(c), []);
  });
});
